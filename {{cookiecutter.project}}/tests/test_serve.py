"""Done when: `serve`, started as a user starts it, answers over HTTP what `predict` writes for the
same rows; refuses a bad request with predict's own one-line message and goes on serving; refuses
a bad checkpoint or a port in use before it listens; and stops cleanly. Loopback addresses only,
and every wait is bounded."""

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from conftest import PACKAGE, QUIET, compose_config, run_app
from fresh_tables import TARGET, fresh_table, raw_rows

from {{ cookiecutter.package }}.predict import predict
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train

TASKS = ("binary", "regression")  # multiclass answers through the same code as binary
MAX_ROWS = 20
# Bounds, not expectations: a loaded machine imports torch slowly. No test asserts a duration.
START_S = 180
REQUEST_S = 60
STOP_S = 60
# Straight to the server, whatever proxy the environment names.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Server:
    process: subprocess.Popen
    output: Path  # its stdout and stderr
    run_dir: Path
    url: str = ""  # known once it is ready


def call(url: str, body: bytes | None = None) -> tuple[int, dict]:
    """GET (no body) or POST a JSON body; the status and the decoded answer, 4xx included."""
    headers = {} if body is None else {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with HTTP.open(request, timeout=REQUEST_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def rows_body(rows: pd.DataFrame) -> bytes:
    """The rows as a client sends them: JSON numbers, text, true/false and null."""
    records = json.loads(rows.to_json(orient="records", double_precision=15))
    return json.dumps({"rows": records}).encode()


def launch(ckpt: Path, workdir: Path, *settings: str) -> Server:
    """Start `python -m <package>.serve ckpt_path=... port=0` on 127.0.0.1, as a user would."""
    workdir.mkdir(parents=True, exist_ok=True)
    output = workdir / "serve.out"
    command = [
        sys.executable,
        "-m",
        f"{PACKAGE}.serve",
        f"ckpt_path={ckpt}",
        "host=127.0.0.1",
        "port=0",
        f"hydra.run.dir={workdir / 'run'}",
        *settings,
    ]
    with open(output, "w") as sink:
        process = subprocess.Popen(command, cwd=workdir, stdout=sink, stderr=subprocess.STDOUT)
    return Server(process, output, workdir / "run")


def wait_until_ready(server: Server) -> Server:
    """Read the URL it printed, then wait for /health to answer 200."""
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        printed = server.output.read_text()
        if server.process.poll() is not None:
            pytest.fail(f"serve exited with {server.process.returncode}:\n{printed[-3000:]}")
        found = re.search(r" on (http://127\.0\.0\.1:\d+)\n", printed)
        if found:
            server.url = found.group(1)
            try:
                if call(server.url + "/health")[0] == 200:
                    return server
            except urllib.error.URLError:
                pass
        time.sleep(0.2)
    pytest.fail(f"serve was not ready within {START_S} s:\n{server.output.read_text()[-3000:]}")


def stop(*servers: Server) -> list[int]:
    """Ask each server to stop (SIGTERM, as a service manager does), then wait for all of them;
    kill one that hangs. Their exit codes."""
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=STOP_S)
    return [server.process.returncode for server in servers]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each task's table as a CSV file, and the best checkpoint of a short training on it."""
    runs = {}
    for task in TASKS:
        workdir = tmp_path_factory.mktemp(task)
        table = workdir / f"{task}.csv"
        fresh_table(task).to_csv(table, index=False)
        cfg = compose_config(
            "train",
            [
                f"run_dir={workdir / 'run'}",
                "data=csv",
                f"data.path={table}",
                f"data.target={TARGET}",
                "trainer.max_epochs=2",
                *QUIET,
            ],
        )
        train(cfg)
        runs[task] = (table, workdir / "run" / "checkpoints" / "best.ckpt")
    return runs


@pytest.fixture(scope="module")
def servers(trained, tmp_path_factory):
    """One running server per task for the whole module, started and stopped side by side."""
    started = {
        task: launch(ckpt, tmp_path_factory.mktemp(f"serve_{task}"), f"max_rows={MAX_ROWS}")
        for task, (_, ckpt) in trained.items()
    }
    try:
        yield {task: wait_until_ready(server) for task, server in started.items()}
    finally:
        stop(*started.values())


def predict_config(ckpt: Path, rows: Path, output: Path):
    return compose_config(
        "predict",
        [f"ckpt_path={ckpt}", f"input={rows}", f"output={output}", f"run_dir={output.parent}"],
    )


@pytest.mark.parametrize("task", TASKS)
def test_the_server_answers_what_predict_writes(trained, servers, task, tmp_path):
    table, ckpt = trained[task]
    frame = pd.read_csv(table)
    rows = raw_rows(frame)  # one region never seen in training among them
    rows.to_csv(tmp_path / "rows.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # that region's warning: test_own_tables checks it
        predict(predict_config(ckpt, tmp_path / "rows.csv", tmp_path / "predictions.csv"))
    written = pd.read_csv(tmp_path / "predictions.csv").drop(columns=rows.columns)

    status, answer = call(servers[task].url + "/predict", rows_body(rows))
    assert status == 200, answer
    predictions = answer["predictions"]
    assert [list(prediction) for prediction in predictions] == [list(written.columns)] * len(rows)
    pd.testing.assert_frame_equal(pd.DataFrame(predictions), written, check_dtype=False)

    # The target is optional and ignored: the same rows with it get the same answer.
    with_target = rows.assign(**{TARGET: frame[TARGET].tail(len(rows)).to_numpy()})
    assert call(servers[task].url + "/predict", rows_body(with_target)) == (200, answer)


def predicts_refusal(ckpt: Path, rows: pd.DataFrame, tmp_path: Path) -> str:
    """predict's message for `rows` in a CSV file, with the file named as serve names a request."""
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    with pytest.raises(UserError) as refused:
        predict(predict_config(ckpt, path, tmp_path / "predictions.csv"))
    return str(refused.value).replace(f"input={str(path)!r}", "the request")


def still_serving(server: Server, trained) -> None:
    assert call(server.url + "/health")[0] == 200
    rows = raw_rows(pd.read_csv(trained["binary"][0]), count=3)
    status, answer = call(server.url + "/predict", rows_body(rows))
    assert status == 200 and len(answer["predictions"]) == 3


def without_plan_and_age(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.drop(columns=["plan", "age"])


def with_text_for_an_age(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(age=rows["age"].astype(object).mask(rows.index == 2, "forty"))


@pytest.mark.parametrize("spoil", [without_plan_and_age, with_text_for_an_age])
def test_rows_the_model_cannot_read_get_predicts_own_message(trained, servers, spoil, tmp_path):
    table, ckpt = trained["binary"]
    rows = spoil(raw_rows(pd.read_csv(table)))
    expected = predicts_refusal(ckpt, rows, tmp_path)
    assert "the request" in expected
    status, answer = call(servers["binary"].url + "/predict", rows_body(rows))
    assert (status, answer) == (422, {"detail": expected})
    still_serving(servers["binary"], trained)


GOOD_ROW = {"age": 40, "income": 20000, "plan": "basic", "region": "east"}
GOOD_ROW |= {"active": True, "children": 1}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"age=40", 400, r"^the request body is not JSON \(Expecting value: .*\): send "),
        (b'{"rows": [{"age": NaN}]}', 400, r"not JSON \(NaN is not a JSON value; send null"),
        (b"\xff\xfe\xfd", 400, r"^the request body is not JSON"),
        (b"[1, 2]", 400, r"^the request body is an array: send \{\"rows\": \[\{column: value"),
        (b'{"row": []}', 400, r"^the request body is an object without 'rows'"),
        (b'{"rows": {"age": 40}}', 400, r"^'rows' is an object: send at least one row"),
        (b'{"rows": []}', 400, r"^'rows' is an empty array: send at least one row"),
        (b'{"rows": [1]}', 400, r"^row 1 is a number: each row is an object of column: value$"),
        (
            json.dumps({"rows": [GOOD_ROW, GOOD_ROW | {"age": [40]}]}).encode(),
            400,
            r"^row 2 has an array for 'age': give a number, text, true/false or null$",
        ),
        (
            json.dumps({"rows": [GOOD_ROW, {k: v for k, v in GOOD_ROW.items() if k != "plan"}]}),
            400,
            r"^row 2 lacks 'plan', which other rows have: give every row the same columns",
        ),
        (
            json.dumps({"rows": [GOOD_ROW] * (MAX_ROWS + 1)}).encode(),
            413,
            rf"^the request has {MAX_ROWS + 1} rows, more than max_rows={MAX_ROWS}: send them",
        ),
    ],
    ids=[
        "not-json",
        "nan",
        "not-text",
        "array",
        "no-rows",
        "rows-object",
        "no-row",
        "row-number",
        "nested-value",
        "ragged-rows",
        "too-many-rows",
    ],
)
def test_a_malformed_request_gets_one_line_and_the_server_goes_on(
    trained, servers, body, status, message
):
    body = body if isinstance(body, bytes) else body.encode()
    answered, answer = call(servers["binary"].url + "/predict", body)
    assert answered == status, answer
    assert re.search(message, answer["detail"]) and "\n" not in answer["detail"]
    still_serving(servers["binary"], trained)


def test_the_printed_curl_example_is_a_request_it_answers(servers):
    server = servers["binary"]
    line = next(
        line for line in server.output.read_text().splitlines() if line.startswith("  curl ")
    )
    words = shlex.split(line)
    assert words[:3] == ["curl", "-s", server.url + "/predict"]
    status, answer = call(words[2], words[words.index("-d") + 1].encode())
    assert status == 200 and len(answer["predictions"]) == 1


def test_health_names_the_task_and_the_columns(servers):
    assert call(servers["regression"].url + "/health") == (
        200,
        {
            "status": "ok",
            "task": "regression",
            "columns": ["age", "income", "children", "plan", "region", "active"],
        },
    )


def test_it_stops_cleanly_and_records_its_run(trained, tmp_path):
    server = launch(trained["binary"][1], tmp_path)
    try:
        assert call(wait_until_ready(server).url + "/health")[0] == 200
        assert stop(server) == [0]
    finally:
        stop(server)
    assert server.output.read_text().rstrip().endswith("Stopped.")
    assert (server.run_dir / ".hydra" / "config.yaml").is_file()
    with pytest.raises(urllib.error.URLError):
        call(server.url + "/health")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def refused(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "http://" not in result.stdout  # it never said it was listening
    return lines[0]


def test_a_bad_checkpoint_is_refused_before_the_port_opens(tmp_path):
    ckpt = tmp_path / "notes.ckpt"
    ckpt.write_text("not a checkpoint")
    line = refused(
        run_app(
            "serve",
            f"ckpt_path={ckpt}",
            f"port={free_port()}",
            f"hydra.run.dir={tmp_path / 'run'}",
            cwd=tmp_path,
        )
    )
    assert f"ckpt_path={str(ckpt)!r} is not a readable checkpoint" in line
    assert not (tmp_path / "run" / ".hydra").exists()


def test_a_port_in_use_is_refused(trained, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refused(
            run_app(
                "serve",
                f"ckpt_path={trained['binary'][1]}",
                f"port={port}",
                f"hydra.run.dir={tmp_path / 'run'}",
                cwd=tmp_path,
            )
        )
    assert f"cannot listen on host=127.0.0.1 port={port}: Address already in use" in line
    assert not (tmp_path / "run" / ".hydra").exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ([], "ckpt_path is required: serve ckpt_path="),
        (["ckpt_path=x.ckpt", "max_rows=0"], "max_rows=0 is not allowed: expected a whole number"),
        (["ckpt_path=x.ckpt", "port=70000"], "port=70000 is not allowed: expected a whole number"),
        (["ckpt_path=x.ckpt", "host=null"], "host=null is not allowed: expected an address"),
    ],
)
def test_settings_are_checked_before_the_checkpoint(tmp_path, settings, message):
    line = refused(run_app("serve", *settings, f"hydra.run.dir={tmp_path}", cwd=tmp_path))
    assert message in line


def test_the_console_script_is_installed(tmp_path):
    # Console scripts sit beside the interpreter, whether or not the environment is activated.
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    script = shutil.which("{{ cookiecutter.project }}-serve", path=search)
    assert script is not None
    result = subprocess.run(
        [script, "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=REQUEST_S
    )
    assert result.returncode == 0
    assert "max_rows: 10000" in result.stdout
