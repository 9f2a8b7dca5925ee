"""What TensorBoard shows: train and val curves on one chart, the HParams table with the best
validation and test metrics, test plots, the decision boundary; checked in the event files and
served over HTTP by a real TensorBoard."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import QUIET
from omegaconf import OmegaConf
from sklearn.datasets import make_blobs, make_moons
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from {{ cookiecutter.package }}.train import train

# Never a proxy for 127.0.0.1, whatever the environment says.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def events_of(run_dir: Path) -> EventAccumulator:
    events = EventAccumulator(str(run_dir), size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    return events


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, path: str, **query: str):
    address = f"{url}{path}?{urllib.parse.urlencode(query)}" if query else url + path
    with HTTP.open(address, timeout=30) as response:
        return json.loads(response.read())


def post(url: str, path: str, body: dict):
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with HTTP.open(request, timeout=30) as response:
        return json.loads(response.read())


@contextmanager
def tensorboard(logdir: Path, runs: list[str], log: Path) -> Iterator[str]:
    """A TensorBoard on 127.0.0.1 and a free port, until it lists `runs`; always stopped."""
    port = free_port()
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tensorboard.main",
                "--logdir",
                str(logdir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--load_fast=false",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "TensorBoard did not serve the runs in time"
                try:
                    if sorted(get(url, "/data/runs")) == runs:
                        break
                except (urllib.error.URLError, ConnectionError):
                    pass
                time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_a_real_tensorboard_serves_the_runs_their_curves_and_the_hparams_table(
    finished_sweep, tmp_path
):
    sweep, _ = finished_sweep
    runs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    with tensorboard(sweep, runs, tmp_path / "tensorboard.log") as url:
        scalar_tags = get(url, "/data/plugin/scalars/tags")
        layout = get(url, "/data/plugin/custom_scalars/layout")
        experiment = post(url, "/data/plugin/hparams/experiment", {"experimentName": ""})
        groups = post(
            url,
            "/data/plugin/hparams/session_groups",
            {
                "experimentName": "",
                "startIndex": 0,
                "sliceSize": 100,
                "colParams": [],
                "allowedStatuses": [
                    "STATUS_UNKNOWN",
                    "STATUS_SUCCESS",
                    "STATUS_FAILURE",
                    "STATUS_RUNNING",
                ],
            },
        )
        served = {
            run: {
                tag: get(url, "/data/plugin/scalars/scalars", run=run, tag=tag)
                for tag in ("train/loss", "val/loss")
            }
            for run in runs
        }
        # The Custom Scalars tab: one chart whose lines are each run's train and val loss.
        [category] = layout["category"]
        charts = {chart["title"]: chart["multiline"]["tag"] for chart in category["chart"]}
        assert charts["loss"] == ["^train/loss$", "^val/loss$"]
        assert set(charts) == {"loss", "acc", "auroc", "f1"}
        on_chart = {
            run: {
                tag: get(url, "/data/plugin/custom_scalars/scalars", run=run, tag=regex)
                for regex in charts["loss"]
                for tag in [regex.strip("^$")]
            }
            for run in runs
        }
        images = get(url, "/data/plugin/images/tags")
        pr_curves = get(url, "/data/plugin/pr_curves/tags")

    for run in runs:
        assert {"train/loss", "val/loss", "best_val/loss", "test/loss"} <= set(scalar_tags[run])
        for tag, points in served[run].items():
            assert [step for _, step, _ in points] == sorted({step for _, step, _ in points})
            assert len(points) == 2, tag  # one point per epoch
            assert on_chart[run][tag]["tag_to_events"][tag]  # the same curve on the chart
        assert "test/confusion_matrix" in images[run]
        assert "test/pr_curve" in pr_curves[run]

    hparams = {info["name"] for info in experiment["hparamInfos"]}
    assert {"optimizer", "lr", "hidden_sizes", "dropout", "batch_size", "max_epochs"} <= hparams
    metrics = {info["name"]["tag"] for info in experiment["metricInfos"]}
    assert metrics == {
        f"{stage}/{name}"
        for stage in ("best_val", "test")
        for name in (
            *("loss", "acc", "auroc", "f1"),
            *("threshold", "acc_at_threshold", "f1_at_threshold"),  # at the chosen threshold
        )
    }
    sessions = {group["name"]: group for group in groups["sessionGroups"]}
    assert sorted(sessions) == runs
    for run, session in sessions.items():
        config = OmegaConf.load(sweep / run / ".hydra" / "config.yaml")
        assert session["hparams"]["lr"] == pytest.approx(config.optimizer.lr)
        assert session["hparams"]["optimizer"] == config.optimizer._target_.rsplit(".", 1)[-1]
        assert session["hparams"]["hidden_sizes"] == "[8]"
        # The same settings in the hparams.yaml Lightning's logger writes beside the events.
        written = yaml.safe_load((sweep / run / "hparams.yaml").read_text())
        assert {key: written[key] for key in ("lr", "hidden_sizes")} == {
            "lr": pytest.approx(config.optimizer.lr),
            "hidden_sizes": "[8]",
        }
        shown = {value["name"]["tag"]: value["value"] for value in session["metricValues"]}
        tested = json.loads((sweep / run / "metrics.json").read_text())
        assert shown["test/auroc"] == pytest.approx(tested["test/auroc"])
        lowest = min(value for _, _, value in served[run]["val/loss"])
        assert shown["best_val/loss"] == pytest.approx(lowest)


def test_best_validation_metrics_are_those_of_the_best_epoch(finished_run_dir):
    events = events_of(finished_run_dir)
    val = {point.step: point.value for point in events.Scalars("val/loss")}
    auroc = {point.step: point.value for point in events.Scalars("val/auroc")}
    best = events.Scalars("best_val/loss")
    best_step = min(val, key=val.get)
    assert best[-1].step == best_step
    assert best[-1].value == pytest.approx(val[best_step])
    assert events.Scalars("best_val/auroc")[-1].value == pytest.approx(auroc[best_step])
    # One point per new best, so each is lower than the one before.
    assert all(a.value > b.value for a, b in zip(best, best[1:], strict=False))


def test_binary_classification_gets_a_pr_curve_and_a_confusion_matrix(finished_run_dir):
    events = events_of(finished_run_dir)
    # 29 inputs: no boundary; a decision threshold: the precision-recall picture marks it.
    assert events.Tags()["images"] == ["test/confusion_matrix", "test/precision_recall"]
    [image] = events.Images("test/confusion_matrix")
    assert image.width > 100 and image.height > 100
    assert "test/pr_curve" in events.Tags()["tensors"]


@pytest.fixture(scope="module")
def finished_run_dir(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    from conftest import compose_config

    train(
        compose_config(
            "train", [f"run_dir={run_dir}", *QUIET, "trainer.max_epochs=6", "optimizer.lr=0.01"]
        )
    )
    return run_dir


def two_input_table(path: Path, kind: str) -> list[str]:
    """A 2-D classification table; returns the data overrides that train on it."""
    if kind == "binary":
        points, labels = make_moons(200, noise=0.2, random_state=0)
    else:
        points, labels = make_blobs(240, centers=3, random_state=0)
    pd.DataFrame({"x1": points[:, 0], "x2": points[:, 1], "label": labels}).to_csv(
        path, index=False
    )
    return [
        f"data.path={path}",
        "data.target=label",
        f"data.task={kind}",
        "data.numeric=[x1,x2]",
        "data.categorical=[]",
        "data.categories=null",
    ]


@pytest.mark.parametrize(("kind", "loss"), [("binary", "bce"), ("multiclass", "cross_entropy")])
def test_two_inputs_draw_the_decision_boundary(train_config, tmp_path, kind, loss):
    data = two_input_table(tmp_path / "table.csv", kind)
    train(
        train_config(
            *QUIET,
            *data,
            f"loss={loss}",
            "trainer.max_epochs=5",
            "callbacks.decision_boundary.every_n_epochs=2",
            "callbacks.decision_boundary.resolution=50",
        )
    )
    events = events_of(tmp_path)
    epochs = {point.step: point.value for point in events.Scalars("epoch")}
    drawn = [image.step for image in events.Images("decision_boundary")]
    # After the first epoch, every second one, and the last: epochs 0, 1, 3 and 4.
    assert [int(epochs[step - 1]) for step in drawn] == [0, 1, 3, 4]
    image = events.Images("decision_boundary")[-1]
    assert (image.width, image.height) == (500, 440)
    [matrix] = events.Images("test/confusion_matrix")
    assert matrix.width > 100
    curves = [tag for tag in events.Tags()["tensors"] if tag.startswith("test/pr_curve")]
    expected = ["test/pr_curve"] if kind == "binary" else [f"test/pr_curve/{c}" for c in range(3)]
    assert sorted(curves) == expected


def test_a_number_and_an_embedded_category_train_without_a_decision_boundary(
    train_config, tmp_path
):
    # Two inputs, but one of them a 12-level category's embedding code: a grid drawn across it
    # once asked the embedding for rows it does not have, and training crashed.
    rng = np.random.default_rng(0)
    team = rng.choice([f"team {i}" for i in range(12)], 240)
    salary = rng.lognormal(8, 1, 240).round()
    label = np.where(salary > np.median(salary), "starter", "reserve")
    path = tmp_path / "table.csv"
    pd.DataFrame({"team": team, "salary": salary, "role": label}).to_csv(path, index=False)
    train(
        train_config(
            *QUIET,
            "data=csv",
            f"data.path={path}",
            "data.target=role",
            "trainer.max_epochs=2",
            "callbacks.decision_boundary.every_n_epochs=1",
        )
    )
    assert events_of(tmp_path).Images("test/confusion_matrix")
    assert "decision_boundary" not in events_of(tmp_path).Tags()["images"]


def test_regression_draws_no_classification_pictures(train_config, tmp_path):
    path = tmp_path / "table.csv"
    pd.DataFrame({"a": range(60), "b": range(60, 120), "y": range(60)}).to_csv(path, index=False)
    train(
        train_config(
            *QUIET,
            f"data.path={path}",
            "data.target=y",
            "data.task=regression",
            "data.numeric=[a,b]",
            "data.categorical=[]",
            "data.categories=null",
            "loss=mse",
            "trainer.max_epochs=2",
        )
    )
    tags = events_of(tmp_path).Tags()
    assert tags["images"] == []
    assert [t for t in tags["tensors"] if t.startswith("test/")] == []
    assert {"best_val/r2", "val/r2"} <= set(tags["scalars"])
