"""Serve a checkpoint's predictions over HTTP: rows in as JSON, predictions out as JSON.

    python -m {{ cookiecutter.package }}.serve \
        ckpt_path=logs/train/runs/<run>/checkpoints/best.ckpt port=8000

`GET /health` answers 200 with the task and the columns the model reads; the model is loaded
before the port opens, so any answer at all means it is ready. `POST /predict` takes
`{"rows": [{column: value, ...}, ...]}` and answers
`{"predictions": [{"prediction": ..., "probability_<class>": ...}, ...]}`: the values, names and
order that `predict` writes for the same rows, because both score them with
`predict.predict_rows`. A request that cannot be answered gets a 4xx whose `detail` is one line:
the very message `predict` prints for the same rows (a missing column, text in a numeric column),
or what is wrong with the request itself (not JSON, not rows, more than `max_rows`); the server
goes on serving.

FastAPI on uvicorn, in this one process (why not LitServe: DESIGN.md). The socket is opened here,
after the checkpoint has been accepted and before uvicorn starts, so a refused checkpoint or a
port in use is one `error:` line and exit 2, and `port=0` can print the port it was given.
"""

import json
import math
import shlex
import signal
import socket
from typing import TYPE_CHECKING, Any

import hydra
from omegaconf import DictConfig, OmegaConf

from .support.config_checks import check_serve_config
from .support.errors import UserError, exit_on_user_error

if TYPE_CHECKING:
    import pandas as pd
    from fastapi import FastAPI

    from .data.datamodule import TabularDataModule
    from .data.preprocessing import TablePreprocessor
    from .model.module import TabularModule

# The `source` in predict's messages: "the request lacks columns the model reads: ...".
SOURCE = "the request"
REQUEST_SHAPE = '{"rows": [{column: value, ...}, ...]}'
# Connections the operating system queues while every worker thread is busy.
BACKLOG = 2048
# Seconds a stopping server gives the requests in progress before it closes their connections.
GRACEFUL_STOP_S = 10


class RequestRefused(UserError):
    """A request the server will not score, with the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false"
    return "null" if value is None else "a number"


def _refuse_constant(name: str) -> None:
    """NaN and Infinity: Python's json reads them, but they are not JSON."""
    raise ValueError(f"{name} is not a JSON value; send null for a missing one")


def read_rows(body: bytes, columns: list[str], max_rows: int) -> "pd.DataFrame":
    """The model's columns of the request's rows, as a table with values as JSON gives them.

    What a CSV file cannot get wrong is checked here (the body's shape, nested values, a key that
    some rows have and others lack); what the rows mean to the model is predict_rows' to judge.
    A column no row has is left out, so that predict_rows names it in its own words.
    """
    import pandas as pd

    try:
        request = json.loads(body, parse_constant=_refuse_constant)
    except ValueError as error:  # also UnicodeDecodeError: bytes that are not text
        message = f"the request body is not JSON ({error}): send " + REQUEST_SHAPE
        raise RequestRefused(400, message) from None
    if not isinstance(request, dict) or "rows" not in request:
        what = "an object without 'rows'" if isinstance(request, dict) else _json_kind(request)
        raise RequestRefused(400, f"the request body is {what}: send " + REQUEST_SHAPE)
    rows = request["rows"]
    if not isinstance(rows, list) or not rows:
        what = "an empty array" if isinstance(rows, list) else _json_kind(rows)
        raise RequestRefused(400, f"'rows' is {what}: send at least one row, " + REQUEST_SHAPE)
    if len(rows) > max_rows:
        raise RequestRefused(
            413,
            f"the request has {len(rows)} rows, more than max_rows={max_rows}: send them in "
            "parts, or start the server with a larger max_rows",
        )
    # Rows are counted from 1, as predict counts the data rows of a file.
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise RequestRefused(
                400, f"row {number} is {_json_kind(row)}: each row is an object of column: value"
            )
    given = [column for column in columns if any(column in row for row in rows)]
    for number, row in enumerate(rows, start=1):
        lacking = [column for column in given if column not in row]
        if lacking:
            raise RequestRefused(
                400,
                f"row {number} lacks {', '.join(map(repr, lacking))}, which other rows have: "
                "give every row the same columns, null for a missing value",
            )
        for column in given:
            if isinstance(row[column], dict | list):
                raise RequestRefused(
                    400,
                    f"row {number} has {_json_kind(row[column])} for {column!r}: "
                    "give a number, text, true/false or null",
                )
    return pd.DataFrame(
        {column: [row[column] for row in rows] for column in given}, index=range(len(rows))
    )


def _json_value(value: Any) -> Any:
    """A plain JSON value: numpy scalars as Python's, a missing (NaN) or infinite number as null."""
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value


def answer(
    body: bytes, module: "TabularModule", datamodule: "TabularDataModule", max_rows: int
) -> bytes:
    """The JSON answer to one /predict body; RequestRefused or UserError when there is none."""
    from .predict import predict_rows

    rows = read_rows(body, datamodule.preprocessor.columns, max_rows)
    result = predict_rows(module, datamodule, rows, SOURCE)
    added = list(result.columns[len(rows.columns) :])  # what predict adds, in its order
    values = [[_json_value(value) for value in result[name].tolist()] for name in added]
    predictions = [dict(zip(added, row, strict=True)) for row in zip(*values, strict=True)]
    return json.dumps({"predictions": predictions}, allow_nan=False).encode()


def example_row(preprocessor: "TablePreprocessor") -> dict[str, Any]:
    """A row the model can read, for the curl example: the training median of every number and
    the first level seen in training of every category."""
    from .data.preprocessing import MISSING_LEVEL

    row: dict[str, Any] = {}
    # The numeric columns come first among the medians, before the date columns' calendar numbers.
    for column, median in zip(preprocessor.numeric, preprocessor.medians, strict=False):
        row[column] = round(median, 2)
    for column in preprocessor.dates:
        row[column] = "2024-01-31"  # pandas reads ISO dates whatever format training had
    for column in preprocessor.categorical + preprocessor.embedded:
        levels = [level for level in preprocessor.categories[column] if level != MISSING_LEVEL]
        row[column] = _json_spelling(levels[0]) if levels else None
    return row


def _json_spelling(level: str) -> Any:
    """A level as JSON would give it: a number or true/false where that names the same level
    (so `children: 2`, not `children: "2"`), else the text."""
    from .data.preprocessing import level_name

    value: Any = {"True": True, "False": False}.get(level)
    if value is None:
        try:
            value = json.loads(level)
        except ValueError:
            return level
    if isinstance(value, bool | int | float) and level_name(value) == level:
        return value
    return level


def create_app(
    module: "TabularModule", datamodule: "TabularDataModule", max_rows: int, example: dict
) -> "FastAPI":
    """/health and /predict. Scoring runs in FastAPI's worker threads, so /health answers while
    predictions are being computed."""
    from fastapi import FastAPI, HTTPException, Request, Response
    from fastapi.concurrency import run_in_threadpool

    preprocessor, encoder = datamodule.preprocessor, datamodule.target_encoder
    app = FastAPI(
        title="{{ cookiecutter.project }}",
        summary="Predictions of one checkpoint, as `predict` writes them.",
    )

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "task": encoder.task, "columns": preprocessor.columns}

    # The docs page (/docs) offers the example row as the body to try. One level per line: the
    # template's renderer would take two closing braces in a row for its own.
    example_request = {"rows": [example]}
    media = {"example": example_request}
    content = {"application/json": media}
    request_body = {"content": content}

    @app.post("/predict", openapi_extra={"requestBody": request_body})
    async def predict(request: Request) -> Response:
        body = await request.body()
        try:
            answered = await run_in_threadpool(answer, body, module, datamodule, max_rows)
        except RequestRefused as refusal:
            raise HTTPException(refusal.status, str(refusal)) from None
        except UserError as error:  # predict's own refusal of these rows
            raise HTTPException(422, str(error)) from None
        return Response(answered, media_type="application/json")

    return app


def open_socket(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port`, or a UserError saying why there is none."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise UserError(
            f"host={host!r} is not an address of this machine ({error.strerror}): use 127.0.0.1 "
            "(this machine only) or 0.0.0.0 (every network)"
        ) from None
    listener = socket.socket(family, kind, protocol)
    # As uvicorn does: a restarted server may reuse the port at once after a stop.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(BACKLOG)
    except OSError as error:
        listener.close()
        raise UserError(
            f"cannot listen on host={host} port={port}: {error.strerror or error}; choose "
            "another port (port=0: any free one) or stop what holds it"
        ) from None
    return listener


def client_url(listener: socket.socket) -> str:
    """The URL a client on this machine uses (a server on every network answers loopback too)."""
    host, port = listener.getsockname()[:2]
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def print_ready(cfg: DictConfig, url: str, datamodule: "TabularDataModule", example: dict) -> None:
    """Where it listens, what it answers, and a request to paste."""
    encoder, columns = datamodule.target_encoder, datamodule.preprocessor.columns
    what = f"{encoder.task} on {datamodule.hparams.target!r}"
    if encoder.classes:
        what += f", classes {', '.join(map(str, encoder.classes))}"
    body = json.dumps({"rows": [example]})
    lines = [
        f"Serving {cfg.ckpt_path} ({what}) on {url}",
        f"  GET  {url}/health   200 when ready, with the {len(columns)} columns the model reads",
        f"  POST {url}/predict  {REQUEST_SHAPE}, at most {cfg.max_rows} rows",
        f"  API docs: {url}/docs",
        "Try it:",
        f"  curl -s {url}/predict -H 'Content-Type: application/json' -d {shlex.quote(body)}",
    ]
    if not is_loopback(cfg.host):
        lines.append(
            f"host={cfg.host}: every network this machine is on can send requests, and nothing "
            "checks who sends them"
        )
    lines.append("Stop it with Ctrl+C.")
    print("\n".join(lines), flush=True)


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine only (127.x.x.x, ::1, localhost)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return all(address.startswith("127.") or address == "::1" for address in addresses)


def run_until_stopped(server: Any, listener: socket.socket) -> None:
    """Run uvicorn on `listener` until Ctrl+C or SIGTERM, and return.

    uvicorn stops gracefully on those signals, then raises the signal again, so that a default
    handler would end the process by it. A stop that was asked for is a clean exit here: the
    handlers it restores and raises to are no-ops, and the defaults come back afterwards.
    """
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {stop: signal.signal(stop, lambda *_: None) for stop in stops}
    try:
        server.run(sockets=[listener])
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def serve(cfg: DictConfig) -> None:
    """Load the checkpoint, open the port, record the run, serve until stopped."""
    import uvicorn

    from .predict import restore_trained
    from .support.build import set_torch_threads
    from .support.checkpoints import load_checkpoint
    from .support.run_dirs import save_run_config

    set_torch_threads(cfg.torch_threads)
    datamodule, module = restore_trained(load_checkpoint(cfg.ckpt_path))
    with open_socket(cfg.host, cfg.port) as listener:
        save_run_config(cfg, cfg.run_dir)  # accepted: the checkpoint loads and the port is ours
        example = example_row(datamodule.preprocessor)
        app = create_app(module, datamodule, cfg.max_rows, example)
        print_ready(cfg, client_url(listener), datamodule, example)
        config = uvicorn.Config(app, timeout_graceful_shutdown=GRACEFUL_STOP_S)
        run_until_stopped(uvicorn.Server(config), listener)
    print("Stopped.", flush=True)


@hydra.main(version_base="1.3", config_path="configs", config_name="serve")
def main(cfg: DictConfig) -> None:
    with exit_on_user_error():
        if OmegaConf.is_missing(cfg, "ckpt_path"):
            raise UserError(
                "ckpt_path is required: serve ckpt_path=<run>/checkpoints/best.ckpt port=8000"
            )
        check_serve_config(cfg)
        serve(cfg)


if __name__ == "__main__":
    main()
