"""Done when: `export` writes one ONNX file that takes the raw columns, preprocesses them itself and
gives predict's numbers, for every task and both networks, and refuses, writing nothing, whatever
would break that promise."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
import torch
from conftest import PACKAGE, QUIET, compose_config, run_app
from fresh_tables import TARGET, fresh_table, raw_rows

from {{ cookiecutter.package }} import predict as predict_app
from {{ cookiecutter.package }}.data.datamodule import UnseenLevelWarning
from {{ cookiecutter.package }}.export import export, joined_graph
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train

SMALL_RESNET = ("model=resnet", "model.width=16", "model.blocks=1")
# Each network, each task and each kind of head: one logit (bce), two logits (cross_entropy),
# softmax probabilities trained directly (mse), regression values; LayerNorm and BatchNorm.
CASES = {
    "binary-mlp": ("binary", ()),
    "binary-resnet": ("binary", (*SMALL_RESNET, "loss=cross_entropy")),
    "multiclass-mlp": ("multiclass", ()),
    "multiclass-resnet": (
        "multiclass",
        (*SMALL_RESNET, "model.normalization=batch_norm", "loss=mse"),
    ),
    "regression-mlp": ("regression", ()),
    "regression-resnet": ("regression", (*SMALL_RESNET, "loss=huber")),
    # A date column and an embedded one (fresh_table's wide table), numbers as normal scores of
    # their training quantiles (which the graph interpolates), each number embedded periodically
    # and each input of the network times its learned factor.
    "binary-wide": ("binary", ("model.numeric_embedding=periodic", "model.input_scale=true")),
    # Numbers scaled by median and interquartile range, then clipped smoothly.
    "regression-robust": ("regression", ("data.numeric_transform=robust",)),
}
NUMERIC = ["age", "income"]
CATEGORICAL = ["plan", "region", "active", "children"]


def export_config(ckpt: Path, output: Path, *extra: str):
    return compose_config(
        "export",
        [f"ckpt_path={ckpt}", f"output={output}", f"run_dir={output.parent / 'run'}", *extra],
    )


def train_on(
    workdir: Path, frame: pd.DataFrame, *overrides: str, target: str = TARGET
) -> tuple[Path, Path]:
    """A short training on `frame`: the table's path and the best checkpoint's."""
    table = workdir / "table.csv"
    frame.to_csv(table, index=False)
    train(
        compose_config(
            "train",
            [
                f"run_dir={workdir / 'train'}",
                "data=csv",
                f"data.path={table}",
                f"data.target={target}",
                "trainer.max_epochs=2",
                *QUIET,
                *overrides,
            ],
        )
    )
    return table, workdir / "train" / "checkpoints" / "best.ckpt"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """case -> (table, checkpoint, ONNX file), trained and exported once, when first asked for."""
    made = {}

    def make(case: str) -> tuple[Path, Path, Path]:
        if case not in made:
            workdir = tmp_path_factory.mktemp(case)
            task, overrides = CASES[case]
            frame = fresh_table(task, wide=case.endswith("wide"))
            # children, a count, read as a coded level, as a user lists one: an integer category.
            table, ckpt = train_on(workdir, frame, "data.categorical=[children]", *overrides)
            model = export(export_config(ckpt, workdir / "model.onnx"))
            made[case] = table, ckpt, model
        return made[case]

    return make


def spelled(value: object) -> str:
    """A category as the graph takes it, by the documented rule, not by the package's code."""
    if pd.isna(value):
        return "missing"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def feeds_by_hand(session: onnxruntime.InferenceSession, rows: pd.DataFrame) -> dict:
    feeds = {}
    for graph_input in session.get_inputs():
        values = rows[graph_input.name]
        if graph_input.type == "tensor(float)":
            feeds[graph_input.name] = values.to_numpy("float32").reshape(-1, 1)
        elif graph_input.type == "tensor(double)":  # a date: seconds since 1970, NaN if missing
            dates = pd.to_datetime(values, format="%d/%m/%Y")
            seconds = (dates - pd.Timestamp("1970-01-01")).dt.total_seconds()
            feeds[graph_input.name] = seconds.to_numpy("float64").reshape(-1, 1)
        else:
            spellings = [spelled(value) for value in values]
            feeds[graph_input.name] = np.asarray(spellings, dtype=object).reshape(-1, 1)
    return feeds


def predicted(ckpt: Path, rows_file: Path, workdir: Path) -> pd.DataFrame:
    """predict's output for the rows in `rows_file`, through the app's own function."""
    output = workdir / "predictions.csv"
    predict_app.predict(
        compose_config(
            "predict",
            [f"ckpt_path={ckpt}", f"input={rows_file}", f"output={output}", f"run_dir={workdir}"],
        )
    )
    return pd.read_csv(output)


def metadata(path: Path) -> dict[str, str]:
    return {entry.key: entry.value for entry in onnx.load(str(path)).metadata_props}


@pytest.mark.parametrize("case", list(CASES))
def test_the_graph_gives_predicts_numbers_for_raw_rows(exported, case, tmp_path):
    table, ckpt, model = exported(case)
    rows = raw_rows(pd.read_csv(table))  # row 1 has a region never seen in training
    rows.loc[len(rows)] = np.nan  # every value missing: booleans and integers read as floats
    rows.to_csv(tmp_path / "rows.csv", index=False)
    rows = pd.read_csv(tmp_path / "rows.csv")
    assert rows["children"].dtype == "float64" and rows[NUMERIC].isna().any().all()
    with pytest.warns(UnseenLevelWarning, match="'atlantis'"):
        expected = predicted(ckpt, tmp_path / "rows.csv", tmp_path)

    session = onnxruntime.InferenceSession(str(model))
    (numbers,) = session.run(None, feeds_by_hand(session, rows))
    task = CASES[case][0]
    if task == "regression":
        scale = torch.load(ckpt, weights_only=True)["TabularDataModule"]["target_encoder"]["scale"]
        np.testing.assert_allclose(numbers, expected["prediction"], rtol=0, atol=1e-5 * scale)
        return
    classes = json.loads(metadata(model)["classes"])
    assert classes == sorted(pd.read_csv(table)[TARGET].unique())
    columns = [f"probability_{label}" for label in classes]
    np.testing.assert_allclose(numbers, expected[columns], rtol=0, atol=1e-5)
    if task == "binary":  # the metadata says where predict's answer turns positive
        threshold = float(metadata(model)["decision_threshold"])
        assert threshold == torch.load(ckpt, weights_only=True)["decision_threshold"]
        positive = expected[columns[1]] > threshold
        assert (expected["prediction"] == np.where(positive, classes[1], classes[0])).all()


def test_the_graph_holds_regression_predictions_within_the_range_as_predict_does(
    exported, tmp_path
):
    table, ckpt, _ = exported("regression-mlp")
    checkpoint = torch.load(ckpt, weights_only=True)
    target = checkpoint["TabularDataModule"]["target_encoder"]
    mean, scale = target["mean"], target["scale"]
    held = [(target["low"] - mean) / scale, (target["high"] - mean) / scale]
    assert checkpoint["hyper_parameters"]["prediction_range"] == pytest.approx(held)
    # Narrowed to a tenth of a standard deviation about the mean, most rows are held at an end.
    checkpoint["hyper_parameters"]["prediction_range"] = [-0.1, 0.1]
    narrowed = tmp_path / "narrowed.ckpt"
    torch.save(checkpoint, narrowed)
    raw_rows(pd.read_csv(table)).to_csv(tmp_path / "rows.csv", index=False)
    rows = pd.read_csv(tmp_path / "rows.csv")
    with pytest.warns(UnseenLevelWarning):
        expected = predicted(narrowed, tmp_path / "rows.csv", tmp_path)["prediction"]
    ends, rounding = mean + np.array([-0.1, 0.1]) * scale, 1e-6 * scale
    assert expected.between(ends[0] - rounding, ends[1] + rounding).all()
    at_an_end = np.isclose(expected.to_numpy()[:, None], ends, rtol=0, atol=rounding).any(1)
    assert at_an_end.mean() > 0.5

    model = export(export_config(narrowed, tmp_path / "model.onnx"))
    session = onnxruntime.InferenceSession(str(model))
    (numbers,) = session.run(None, feeds_by_hand(session, rows))
    np.testing.assert_allclose(numbers, expected, rtol=0, atol=1e-5 * scale)


def readme_example() -> str:
    """The README's ONNX Runtime example, as a user copies it."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    return next(block for block in blocks if 'InferenceSession("model.onnx")' in block)


@pytest.mark.parametrize(
    ("case", "printed"), [("binary-mlp", "yes"), ("regression-mlp", "prediction")]
)
def test_the_readmes_onnx_runtime_example_runs_as_written(exported, case, printed, tmp_path):
    table, _, model = exported(case)
    shutil.copy(model, tmp_path / "model.onnx")
    shutil.copy(table, tmp_path / "rows.csv")
    ran = subprocess.run(
        [sys.executable, "-c", readme_example()], cwd=tmp_path, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert printed in ran.stdout.splitlines()[0]  # the class names, or the predictions' name


@pytest.mark.parametrize("case", ["binary-mlp", "multiclass-resnet", "regression-mlp"])
def test_inputs_and_outputs_are_as_promised(exported, case):
    table, _, model = exported(case)
    session = onnxruntime.InferenceSession(str(model))
    inputs = [(i.name, i.type, i.shape) for i in session.get_inputs()]
    assert inputs == [(name, "tensor(float)", ["rows", 1]) for name in NUMERIC] + [
        (name, "tensor(string)", ["rows", 1]) for name in CATEGORICAL
    ]
    (output,) = session.get_outputs()
    task = CASES[case][0]
    if task == "regression":
        assert (output.name, output.type, output.shape) == (
            "prediction",
            "tensor(double)",
            ["rows"],
        )
    else:
        width = pd.read_csv(table)[TARGET].nunique()
        assert (output.name, output.type, output.shape) == (
            "probabilities",
            "tensor(float)",
            ["rows", width],
        )
    assert metadata(model)["task"] == task
    assert metadata(model)["target"] == TARGET

    # Any number of rows: one row gives what it gives among others.
    rows = raw_rows(pd.read_csv(table))
    many = session.run(None, feeds_by_hand(session, rows))[0]
    one = session.run(None, feeds_by_hand(session, rows.head(1)))[0]
    # Float32 products may round differently in a batch of one (another kernel): a regression
    # value of about 65 in the target's units moves by its last float32 digit, about 1e-6.
    np.testing.assert_allclose(one, many[:1], rtol=1e-6, atol=1e-6)


def test_a_level_is_matched_by_its_spelling_only(exported):
    """Booleans are "True"/"False" and integer codes "1", not "1.0": another spelling is a level
    never seen in training, encoded as all zeros."""
    table, _, model = exported("binary-mlp")
    session = onnxruntime.InferenceSession(str(model))
    rows = raw_rows(pd.read_csv(table)).dropna().head(1)
    rows["children"] = 2
    rows["active"] = True
    as_taught = session.run(None, feeds_by_hand(session, rows))[0]
    feeds = feeds_by_hand(session, rows)
    assert feeds["children"][0, 0] == "2" and feeds["active"][0, 0] == "True"
    feeds["children"] = np.asarray([["2.0"]], dtype=object)
    assert not np.allclose(session.run(None, feeds)[0], as_taught)


def test_export_from_the_command_line_checks_itself_on_the_test_rows(exported, tmp_path):
    _, ckpt, _ = exported("binary-mlp")
    result = run_app(
        "export", f"ckpt_path={ckpt}", "output=model.onnx", "hydra.run.dir=run", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "ONNX Runtime matches PyTorch on 120 rows (the test rows of data.path=" in result.stdout
    difference = float(result.stdout.split("largest difference ")[1].split()[0])
    assert difference <= 1e-5
    assert "Wrote model.onnx" in result.stdout
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "run"]
    assert (tmp_path / "run" / ".hydra" / "config.yaml").is_file()  # recorded once accepted
    logged = (tmp_path / "run" / "export.log").read_text()  # what it said, kept with the run
    assert "ONNX Runtime matches PyTorch on 120 rows" in logged
    assert "Wrote model.onnx\n  inputs, each (rows, 1): " in logged


def test_predict_from_the_command_line_keeps_what_it_wrote_in_its_log(exported, tmp_path):
    table, ckpt, _ = exported("binary-mlp")
    result = run_app(
        "predict",
        f"ckpt_path={ckpt}",
        f"input={table}",
        "output=rows.csv",
        "hydra.run.dir=run",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    said = f"Wrote {len(pd.read_csv(table))} predictions to rows.csv"
    assert said in result.stdout
    assert said in (tmp_path / "run" / "predict.log").read_text()


def test_an_existing_output_is_replaced_only_when_asked(exported, tmp_path):
    _, ckpt, _ = exported("multiclass-mlp")
    output = tmp_path / "model.onnx"
    output.write_text("keep me")
    with pytest.raises(UserError, match=r"output='.*model.onnx' already exists.*overwrite=true"):
        export(export_config(ckpt, output))
    assert output.read_text() == "keep me"
    export(export_config(ckpt, output, "overwrite=true"))
    onnx.checker.check_model(onnx.load(str(output)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "is not a file"),
        ("not a checkpoint at all", "is not a readable checkpoint"),
        ({"weights": torch.zeros(2)}, "is not a checkpoint written by this project's train"),
    ],
)
def test_a_bad_checkpoint_is_refused(tmp_path, content, message):
    ckpt = tmp_path / "bad.ckpt"
    if isinstance(content, str):
        ckpt.write_text(content)
    elif content is not None:
        torch.save(content, ckpt)
    with pytest.raises(UserError, match=f"ckpt_path='.*bad.ckpt' {message}"):
        export(export_config(ckpt, tmp_path / "out" / "model.onnx"))
    assert not (tmp_path / "out").exists()


def test_rows_given_to_check_on_are_checked_like_predicts(exported, tmp_path):
    table, ckpt, _ = exported("binary-mlp")
    rows = raw_rows(pd.read_csv(table))
    rows.to_csv(tmp_path / "rows.csv", index=False)
    output = tmp_path / "model.onnx"
    export(export_config(ckpt, output, f"input={tmp_path / 'rows.csv'}"))
    assert output.is_file()
    rows.drop(columns=["plan"]).to_csv(tmp_path / "rows.csv", index=False)
    with pytest.raises(UserError, match=r"input='.*' lacks columns the model reads: 'plan'"):
        export(export_config(ckpt, output, f"input={tmp_path / 'rows.csv'}", "overwrite=true"))


def shift_predictions(monkeypatch) -> None:
    """predict's probabilities moved by 0.001 from now on, as if the graph and the model
    disagreed."""
    real = predict_app.predict_rows

    def shifted(*args, **kwargs):
        result = real(*args, **kwargs)
        added = [c for c in result.columns if c.startswith("probability_")]
        result[added] += 0.001
        return result

    monkeypatch.setattr(predict_app, "predict_rows", shifted)


def test_a_graph_that_disagrees_with_the_model_is_not_kept(exported, tmp_path, monkeypatch):
    # Quantile-scaled numbers (the default) are rounded to float32 by the package as by the graph,
    # so the refusal names no column as the likely cause.
    _, ckpt, _ = exported("binary-mlp")
    shift_predictions(monkeypatch)
    output = tmp_path / "model.onnx"
    with pytest.raises(
        UserError,
        match=r"differs from the PyTorch model by up to 0.001 on 120 rows .*"
        r"more than tolerance=1e-05: .*model.onnx was not written",
    ):
        export(export_config(ckpt, output))
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no partial file either
    output.write_text("keep me")
    with pytest.raises(UserError, match="was not written"):
        export(export_config(ckpt, output, "overwrite=true"))
    assert output.read_text() == "keep me"
    export(export_config(ckpt, output, "overwrite=true", "tolerance=0.01"))
    assert output.stat().st_size > 1000


def test_a_refusal_names_the_columns_float32_rounds_coarsely(tmp_path):
    """A timestamp-like column loses digits as a float32 input: the refusal names it (scaled by
    median and spread; the quantile transform rounds to float32 itself)."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {"signup": 1.6e9 + rng.uniform(0, 1e7, 200), "x": rng.normal(size=200)}
    ).assign(y=lambda t: t["x"] + (t["signup"] - 1.605e9) / 3e6)
    _, ckpt = train_on(tmp_path, table, "data.numeric_transform=robust", target="y")
    with pytest.raises(UserError, match="by up to") as refusal:
        export(export_config(ckpt, tmp_path / "model.onnx", "tolerance=1e-12"))
    assert "float32 rounds 'signup' by up to" in str(refusal.value)
    assert "'x'" not in str(refusal.value)
    assert not (tmp_path / "model.onnx").exists()


def test_a_column_kind_export_cannot_write_is_refused(exported, tmp_path):
    _, ckpt, _ = exported("binary-mlp")
    checkpoint = torch.load(ckpt, weights_only=True)
    # A column kind a later version (or a user's own preprocessing) might add: free text.
    checkpoint["TabularDataModule"]["preprocessor"]["texts"] = ["comment"]
    torch.save(checkpoint, tmp_path / "texts.ckpt")
    with pytest.raises(
        UserError, match=r"columns of a kind export cannot write: texts \('comment'\)"
    ):
        export(export_config(tmp_path / "texts.ckpt", tmp_path / "model.onnx"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["texts.ckpt"]


def test_a_column_named_like_the_graphs_output_is_refused(exported):
    from {{ cookiecutter.package }}.data.datamodule import TabularDataModule
    from {{ cookiecutter.package }}.model.module import TabularModule

    _, ckpt, _ = exported("binary-mlp")
    checkpoint = torch.load(ckpt, weights_only=True)
    datamodule = TabularDataModule(**checkpoint["datamodule_hyper_parameters"])
    datamodule.load_state_dict(checkpoint["TabularDataModule"])
    datamodule.preprocessor.numeric[0] = "probabilities"
    with pytest.raises(UserError, match="column 'probabilities' cannot be an input"):
        joined_graph(TabularModule.from_checkpoint(checkpoint), datamodule, opset=20)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("tolerance=-1", r"tolerance=-1 is not allowed: expected a number >= 0"),
        ("opset=12", r"opset=12 is not allowed: expected a whole number from 19"),
    ],
)
def test_bad_settings_are_refused_before_the_checkpoint_is_read(tmp_path, override, message):
    with pytest.raises(UserError, match=message):
        export(export_config(tmp_path / "none.ckpt", tmp_path / "model.onnx", override))


def test_a_model_trained_without_imputing_gives_no_number_for_a_row_with_a_gap(tmp_path):
    table = fresh_table("binary", rows=200)
    _, ckpt = train_on(tmp_path, table.dropna(), "data.missing=drop")
    model = export(export_config(ckpt, tmp_path / "model.onnx"))
    rows = table.drop(columns=[TARGET]).head(20)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    rows = pd.read_csv(tmp_path / "rows.csv")
    expected = predicted(ckpt, tmp_path / "rows.csv", tmp_path)

    session = onnxruntime.InferenceSession(str(model))
    (numbers,) = session.run(None, feeds_by_hand(session, rows))
    gaps = rows.isna().any(axis=1).to_numpy()
    assert gaps.any() and not gaps.all()
    assert np.isnan(numbers[gaps]).all() and not np.isnan(numbers[~gaps]).any()
    columns = ["probability_no", "probability_yes"]
    np.testing.assert_allclose(numbers, expected[columns], rtol=0, atol=1e-5)


def test_help_answers_without_importing_torch():
    code = (
        "import sys\n"
        "sys.argv = ['export', '--help']\n"
        f"from {PACKAGE} import export\n"
        "try:\n    export.main()\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "tolerance" in result.stdout


def test_console_script_is_installed(tmp_path):
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    script = shutil.which("{{ cookiecutter.project }}-export", path=search)
    assert script is not None
    result = subprocess.run([script, "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0
    assert "ckpt_path: ???" in result.stdout
