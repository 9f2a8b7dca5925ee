"""MLflow beside (or instead of) TensorBoard: the logger of a run, and what it records once tested.

Lightning's MLFlowLogger logs the curves: every epoch's `train/...` and `val/...` metrics,
`best_val/...` and the test metrics. `record_mlflow_run` adds what a tracker is kept for: the run's
settings as params, under the readable names of TensorBoard's HParams table (`lr`, `hidden_sizes`,
`optimizer`, ...), and the run's `.hydra/config.yaml`, `metrics.json` and best checkpoint as
artifacts, so that a run can be found, compared and restored from MLflow alone.

mlflow itself is imported only when a run uses it: Lightning imports it when it builds the logger.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lightning.pytorch.loggers import Logger, MLFlowLogger

SQLITE = "sqlite:///"
# Beside a SQLite file, as `mlflow server` keeps its own artifacts in ./mlartifacts.
ARTIFACTS_FOLDER = "mlartifacts"


def sqlite_file(tracking_uri: str) -> Path | None:
    """The database file of a `sqlite:///...` tracking URI, absolute; None for any other store, and
    for a SQLite URI that names no file (an in-memory database, gone when the run ends).

    `sqlite:///logs/mlflow.db` is relative to where the app runs, `sqlite:////srv/mlflow.db`
    absolute (SQLAlchemy's spelling); a `?...` query is not part of the file's name.
    """
    path = tracking_uri[len(SQLITE) :].partition("?")[0]
    return Path(path).absolute() if tracking_uri.startswith(SQLITE) and path else None


def mlflow_logger(
    tracking_uri: str,
    experiment_name: str,
    run_dir: str,
    run_name: str | None = None,
    artifact_location: str | None = None,
) -> "MLFlowLogger":
    """Lightning's MLFlowLogger for the run in `run_dir`, as set up by `configs/logger/mlflow.yaml`.

    A SQLite database needs no server: its folder is created, and the artifacts of a new experiment
    go beside it (`<folder>/mlartifacts`) unless `artifact_location` says otherwise, so that
    nothing lands in MLflow's default `./mlruns` of whatever folder the app was started from. A
    server (`http://...`) keeps its artifacts where it was told to. The run is named after its
    directory (relative to where the app runs, when it is below it), which also goes into the
    `run_dir` tag in full.
    """
    from lightning.pytorch.loggers import MLFlowLogger

    database = sqlite_file(tracking_uri)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
        if artifact_location is None:
            artifact_location = str(database.parent / ARTIFACTS_FOLDER)
    folder = Path(run_dir).absolute()
    if run_name is None:
        below = folder.is_relative_to(Path.cwd())
        run_name = str(folder.relative_to(Path.cwd())) if below else str(folder)
    return MLFlowLogger(
        experiment_name=experiment_name,
        run_name=run_name,
        tracking_uri=tracking_uri,
        artifact_location=artifact_location,
        tags={"run_dir": str(folder)},
    )


def record_mlflow_run(
    loggers: list["Logger"], params: dict[str, Any], run_dir: str, best_checkpoint: str
) -> None:
    """After testing, for each MLflow logger of the run: the params, then the artifacts
    `.hydra/config.yaml`, `metrics.json` and `checkpoints/best.ckpt` (where they exist), under the
    same paths as in the run directory. Call it in the main process only."""
    from lightning.pytorch.loggers import MLFlowLogger

    run = Path(run_dir)
    artifacts = [(run / ".hydra" / "config.yaml", ".hydra"), (run / "metrics.json", None)]
    if best_checkpoint:
        artifacts.append((Path(best_checkpoint), "checkpoints"))
    for logger in loggers:
        if not isinstance(logger, MLFlowLogger):
            continue
        logger.log_hyperparams(params)
        for path, folder in artifacts:
            if path.is_file():
                logger.experiment.log_artifact(logger.run_id, str(path), folder)
