"""Done when: tables never seen before train with only data.path and data.target, for every task,
and predict answers raw rows in the user's own terms, every row, in order."""

import json
import warnings

import pandas as pd
import pytest
import torch
from conftest import QUIET, compose_config, run_app
from fresh_tables import TARGET, fresh_table, raw_rows
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from {{ cookiecutter.package }}.data.datamodule import UnseenLevelWarning
from {{ cookiecutter.package }}.predict import predict
from {{ cookiecutter.package }}.support.build import build_datamodule
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train

# Loose, but far above what a broken pipeline reaches (chance: AUROC 0.5, accuracy ~0.5, R² 0).
SOUND = {
    "binary": ("test/auroc", 0.85),
    "multiclass": ("test/acc", 0.7),
    "regression": ("test/r2", 0.6),
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each task's table as a CSV file, and the run directory of a short training on it."""
    runs = {}
    for task in SOUND:
        workdir = tmp_path_factory.mktemp(task)
        path = workdir / f"{task}.csv"
        fresh_table(task, wide=True).to_csv(path, index=False)
        cfg = compose_config(
            "train",
            [
                f"run_dir={workdir / 'run'}",
                "data=csv",
                f"data.path={path}",
                f"data.target={TARGET}",
                "trainer.max_epochs=40",
                *QUIET,
            ],
        )
        train(cfg)
        runs[task] = (path, workdir / "run")
    return runs


@pytest.mark.parametrize("task", list(SOUND))
def test_every_task_trains_from_path_and_target_alone(trained, task):
    _, run_dir = trained[task]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    name, least = SOUND[task]
    assert metrics[name] >= least, metrics


@pytest.mark.parametrize("task", list(SOUND))
def test_the_checkpoint_holds_the_learned_data_state_as_plain_data(trained, task):
    _, run_dir = trained[task]
    checkpoint = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
    state = checkpoint["TabularDataModule"]
    assert state["target_encoder"]["task"] == task
    assert checkpoint["hyper_parameters"]["task"] == task
    preprocessor = state["preprocessor"]
    assert preprocessor["numeric"] == ["age", "income", "children"]  # a count is a number
    assert preprocessor["categorical"] == ["plan", "region", "active"]
    assert "missing" in preprocessor["categories"]["plan"]  # imputed as a level of its own
    # Many levels: embedded, the tail of rare cities left to the shared row 0.
    assert preprocessor["embedded"] == ["city"]
    assert set(preprocessor["categories"]["city"]) >= {f"city_{i:02d}" for i in range(12)}
    assert len(preprocessor["categories"]["city"]) < 30
    assert preprocessor["dates"] == {"signed_up": "%d/%m/%Y"}
    assert preprocessor["date_parts"]["signed_up"][-1] == "days_since_1970"
    assert checkpoint["hyper_parameters"]["embedding_rows"] == [
        len(preprocessor["categories"]["city"]) + 1
    ]
    expected_loss = {
        "binary": "torch.nn.BCEWithLogitsLoss",
        "multiclass": "torch.nn.CrossEntropyLoss",
        "regression": "torch.nn.MSELoss",
    }
    assert checkpoint["hyper_parameters"]["loss"]["_target_"] == expected_loss[task]
    if task == "multiclass":  # RealMLP-TD's smoothing, the cross_entropy default
        assert checkpoint["hyper_parameters"]["loss"]["label_smoothing"] == 0.1


@pytest.mark.parametrize(
    ("task", "monitor", "mode"),
    [
        ("binary", "val/loss", "min"),
        ("multiclass", "val/acc", "max"),
        ("regression", "val/loss", "min"),
    ],
)
def test_the_best_checkpoint_is_the_epoch_of_the_tasks_metric(trained, task, monitor, mode):
    """callbacks.model_checkpoint.monitor=auto: multiclass by accuracy, the others by the loss;
    best.ckpt keeps the best of that metric over the run's validations."""
    _, run_dir = trained[task]
    checkpoint = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
    [(key, state)] = [
        (key, state)
        for key, state in checkpoint["callbacks"].items()
        if key.startswith("ModelCheckpoint") and state["monitor"] is not None
    ]
    assert state["monitor"] == monitor
    assert f"'mode': '{mode}'" in key
    events = EventAccumulator(str(run_dir))
    events.Reload()
    validations = [(event.step, event.value) for event in events.Scalars(monitor)]
    values = [value for _, value in validations]
    best = max(values) if mode == "max" else min(values)
    assert float(state["best_model_score"]) == pytest.approx(best)
    # of epochs tied for the best, the one with the lowest val/loss (callbacks/model_checkpoint.py)
    loss = {event.step: event.value for event in events.Scalars("val/loss")}
    tied = [step for step, value in validations if value == best]
    assert state["kept_tie_breaker"] == pytest.approx(loss[min(tied, key=loss.get)])
    assert len(set(values)) > 1  # a run whose metric never moved would prove nothing


def predict_config(ckpt, rows, output, *extra):
    return compose_config(
        "predict",
        [
            f"ckpt_path={ckpt}",
            f"input={rows}",
            f"output={output}",
            f"run_dir={output.parent}",
            *extra,
        ],
    )


@pytest.mark.parametrize("task", list(SOUND))
def test_predict_answers_raw_rows_in_order_in_the_users_terms(trained, task, tmp_path):
    path, run_dir = trained[task]
    rows = raw_rows(pd.read_csv(path))
    rows.to_csv(tmp_path / "rows.csv", index=False)
    output = tmp_path / "predictions.csv"
    with pytest.warns(UnseenLevelWarning, match=r"'region': 1 row \('atlantis'\)"):
        predict(
            predict_config(run_dir / "checkpoints" / "best.ckpt", tmp_path / "rows.csv", output)
        )
    result = pd.read_csv(output)
    assert result["customer_id"].tolist() == rows["customer_id"].tolist()
    pd.testing.assert_frame_equal(result[rows.columns], pd.read_csv(tmp_path / "rows.csv"))
    if task == "regression":
        assert list(result.columns) == [*rows.columns, "prediction"]
        assert result["prediction"].between(0, 100).all()
        return
    classes = sorted(pd.read_csv(path)[TARGET].unique())
    probabilities = [f"probability_{label}" for label in classes]
    assert list(result.columns) == [*rows.columns, "prediction", *probabilities]
    assert set(result["prediction"]) <= set(classes)
    assert result[probabilities].sum(axis=1).tolist() == pytest.approx([1.0] * len(rows))
    chosen = result[probabilities].to_numpy().argmax(axis=1)
    if task == "binary":  # the second class above the threshold chosen on validation
        ckpt = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
        chosen = (result[probabilities[1]] > ckpt["decision_threshold"]).astype(int)
    assert result["prediction"].tolist() == [classes[i] for i in chosen]


def test_predict_names_the_missing_columns(trained, tmp_path):
    path, run_dir = trained["binary"]
    rows = raw_rows(pd.read_csv(path)).drop(columns=["plan", "age"])
    rows.to_csv(tmp_path / "r.csv", index=False)
    cfg = predict_config(
        run_dir / "checkpoints" / "best.ckpt", tmp_path / "r.csv", tmp_path / "p.csv"
    )
    with pytest.raises(
        UserError,
        match=r"input='.*r.csv' lacks columns the model reads: "
        r"'age', 'plan' \(it reads age, income, children, signed_up, plan",
    ):
        predict(cfg)
    assert not (tmp_path / "p.csv").exists()


def test_predict_never_overwrites_without_being_asked(trained, tmp_path):
    path, run_dir = trained["binary"]
    raw_rows(pd.read_csv(path)).to_parquet(tmp_path / "rows.parquet")
    output = tmp_path / "out.parquet"
    output.write_text("keep me")
    ckpt = run_dir / "checkpoints" / "best.ckpt"
    with pytest.raises(UserError, match=r"output='.*out.parquet' already exists.*overwrite=true"):
        predict(predict_config(ckpt, tmp_path / "rows.parquet", output))
    assert output.read_text() == "keep me"
    with pytest.warns(UnseenLevelWarning):
        predict(predict_config(ckpt, tmp_path / "rows.parquet", output, "overwrite=true"))
    assert len(pd.read_parquet(output)) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet", "rows.parquet"]


def test_predict_from_the_command_line(trained, tmp_path):
    path, run_dir = trained["multiclass"]
    raw_rows(pd.read_csv(path)).to_csv(tmp_path / "rows.csv", index=False)
    result = run_app(
        "predict",
        f"ckpt_path={run_dir / 'checkpoints' / 'best.ckpt'}",
        "input=rows.csv",
        "output=predictions.csv",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote 8 predictions to predictions.csv" in result.stdout
    assert "'region': 1 row ('atlantis')" in result.stderr
    predictions = pd.read_csv(tmp_path / "predictions.csv")["prediction"]
    assert set(predictions) <= {"low", "medium", "high"}
    assert (tmp_path / "run" / ".hydra" / "config.yaml").is_file()  # recorded once accepted


@pytest.mark.parametrize("policy", ["drop", "error"])
def test_predict_follows_the_missing_value_policy_of_training(tmp_path, policy):
    table = fresh_table("binary", rows=200)
    complete = table.dropna()
    complete.to_csv(tmp_path / "train.csv", index=False)
    train(
        compose_config(
            "train",
            [
                f"run_dir={tmp_path / 'run'}",
                "data=csv",
                f"data.path={tmp_path / 'train.csv'}",
                f"data.target={TARGET}",
                f"data.missing={policy}",
                "trainer.max_epochs=1",
                *QUIET,
            ],
        )
    )
    rows = table.drop(columns=[TARGET]).head(20)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    cfg = predict_config(
        tmp_path / "run" / "checkpoints" / "best.ckpt",
        tmp_path / "rows.csv",
        tmp_path / "out" / "predictions.csv",
    )
    if policy == "error":
        with pytest.raises(UserError, match=r"input='.*rows.csv' has missing values in 'age'"):
            predict(cfg)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnseenLevelWarning)  # a row with a gap is not scored at all
        predict(cfg)
    result = pd.read_csv(tmp_path / "out" / "predictions.csv")
    gaps = rows[["age", "plan", "active"]].isna().any(axis=1).to_numpy()
    assert gaps.any() and not gaps.all()
    assert result["prediction"].isna().to_numpy().tolist() == gaps.tolist()
    assert set(result.loc[~gaps, "prediction"]) <= {"yes", "no"}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_predict_in_parts_writes_what_predict_at_once_writes(trained, tmp_path, suffix):
    """Rows are read, predicted and written `chunk_rows` at a time: the same rows, in order."""
    path, run_dir = trained["binary"]
    rows = pd.read_csv(path).drop(columns=[TARGET])
    source = tmp_path / f"rows{suffix}"
    rows.to_csv(source, index=False) if suffix == ".csv" else rows.to_parquet(source)
    ckpt = run_dir / "checkpoints" / "best.ckpt"
    at_once, in_parts = tmp_path / f"once{suffix}", tmp_path / f"parts{suffix}"
    predict(predict_config(ckpt, source, at_once, "chunk_rows=100000"))
    predict(predict_config(ckpt, source, in_parts, "chunk_rows=70"))
    read = pd.read_csv if suffix == ".csv" else pd.read_parquet
    pd.testing.assert_frame_equal(read(in_parts), read(at_once))
    assert read(in_parts)["customer_id"].tolist() == rows["customer_id"].tolist()


def test_a_bad_row_late_in_a_long_input_writes_nothing_and_names_its_row(trained, tmp_path):
    path, run_dir = trained["binary"]
    rows = pd.read_csv(path).drop(columns=[TARGET])
    rows["age"] = rows["age"].astype(object)
    rows.loc[450, "age"] = "forty"
    rows.to_csv(tmp_path / "rows.csv", index=False)
    output = tmp_path / "out.csv"
    cfg = predict_config(
        run_dir / "checkpoints" / "best.ckpt", tmp_path / "rows.csv", output, "chunk_rows=100"
    )
    with pytest.raises(UserError, match=r"holds text \('forty' in data row 451\)"):
        predict(cfg)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


def test_predict_refuses_what_it_cannot_read_or_write_in_one_line(trained, tmp_path):
    path, run_dir = trained["binary"]
    ckpt = run_dir / "checkpoints" / "best.ckpt"
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(pd.read_csv(path).columns) + "\n")
    with pytest.raises(UserError, match="holds no data rows"):
        predict(predict_config(ckpt, header_only, tmp_path / "a.csv"))
    rows = tmp_path / "rows.csv"
    pd.read_csv(path).drop(columns=[TARGET]).to_csv(rows, index=False)
    (tmp_path / "folder").mkdir()
    with pytest.raises(UserError, match="is a directory"):
        predict(predict_config(ckpt, rows, tmp_path / "folder", "overwrite=true"))
    with pytest.raises(UserError, match="cannot be written"):
        predict(predict_config(ckpt, rows, header_only / "out.csv"))


def test_predict_in_parts_to_parquet_refuses_a_later_part_of_another_type(trained, tmp_path):
    path, run_dir = trained["binary"]
    rows = pd.read_csv(path).drop(columns=[TARGET])
    rows["note"] = None
    rows.loc[250:, "note"] = "text"  # empty in the first parts, text later
    rows.to_csv(tmp_path / "rows.csv", index=False)
    output = tmp_path / "out.parquet"
    with pytest.raises(UserError, match="does not fit the column types of the first"):
        predict(
            predict_config(
                run_dir / "checkpoints" / "best.ckpt",
                tmp_path / "rows.csv",
                output,
                "chunk_rows=100",
            )
        )
    assert not output.exists()


def test_regression_errors_are_reported_in_the_targets_own_units(trained, tmp_path):
    """test/mae and test/mse are what a user computes from predict's answers for the test rows
    and their targets: the target's units, not the standardised ones the network learns in."""
    path, run_dir = trained["regression"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    overrides = ["data=csv", f"data.path={path}", f"data.target={TARGET}"]
    datamodule = build_datamodule(compose_config("train", overrides).data)
    datamodule.setup("fit")
    kept, _ = datamodule.usable_table()
    table = pd.read_csv(path)
    test = table.loc[kept.index[datamodule.split_rows["test"]]]
    test.drop(columns=[TARGET]).to_csv(tmp_path / "rows.csv", index=False)
    output = tmp_path / "predictions.csv"
    predict(predict_config(run_dir / "checkpoints" / "best.ckpt", tmp_path / "rows.csv", output))

    errors = pd.read_csv(output)["prediction"].to_numpy() - test[TARGET].to_numpy()
    assert table[TARGET].std() > 5  # so that standardised errors would be far off
    assert metrics["test/mae"] == pytest.approx(abs(errors).mean(), rel=1e-3)
    assert metrics["test/mse"] == pytest.approx((errors**2).mean(), rel=1e-3)
