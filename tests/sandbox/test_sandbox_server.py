"""Running the sandbox: thread and child-process modes, restarts with --db, the command line,
the connection it prints, and what importing it costs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING

import httpx

from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer
from airflow_campaign_provider.sandbox.seed import SAMPLE_CONTACTS
from airflow_campaign_provider.sandbox.server import format_env_line, parse_env_line
from tests.sandbox.testkit import KoreClient

if TYPE_CHECKING:
    from pathlib import Path

FAST = SandboxConfig(rate_limit_per_window=None, preparing_seconds=0.05, send_interval_seconds=0.01)


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_connection_json_format() -> None:
    sandbox = SandboxServer(FAST, port=8765)

    connection = json.loads(sandbox.connection_json())

    assert connection == {
        "conn_type": "kore_campaign",
        "host": "http://127.0.0.1:8765",
        "login": sandbox.client_id,
        "password": sandbox.client_secret,
        "extra": {"account_id": sandbox.account_id, "stream_id": sandbox.stream_id},
    }
    assert len(sandbox.account_id) == 24
    int(sandbox.account_id, 16)
    assert sandbox.stream_id.startswith("st-")
    assert sandbox.client_id.startswith("cs-")
    assert sandbox.connection_env() == {"AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT": sandbox.connection_json()}
    assert list(sandbox.connection_env("my_kore")) == ["AIRFLOW_CONN_MY_KORE"]


def test_env_line_round_trip_survives_shell_quoting() -> None:
    connection = {"password": 'it\'s a "secret" $HOME `x`', "host": "http://127.0.0.1:1"}
    line = format_env_line("kore_campaign_default", json.dumps(connection))

    assert line.startswith("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT=")
    assert parse_env_line(line) == connection
    shell = subprocess.run(
        ["sh", "-c", f'{line}; printf %s "$AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(shell.stdout) == connection


def test_thread_mode_restarts_on_the_same_port() -> None:
    sandbox = SandboxServer(FAST)
    with sandbox:
        port = sandbox.port
        sandbox.admin.seed_campaign("Ready")
        assert sandbox.admin.campaigns()["liveCount"] == 1
    assert not sandbox.running

    with sandbox:
        assert sandbox.port == port
        assert sandbox.admin.campaigns()["liveCount"] == 0  # in memory: a restart starts afresh


def test_subprocess_restart_with_a_database_loses_nothing(tmp_path: Path) -> None:
    config = SandboxConfig(rate_limit_per_window=None, preparing_seconds=0.05, send_interval_seconds=0.4)
    sandbox = SandboxServer(config, subprocess=True, db_path=str(tmp_path / "sandbox.db"))
    with sandbox:
        kore = KoreClient(sandbox)
        port = sandbox.port
        stopped = sandbox.admin.seed_campaign("Stopped", fields={"name": "Kept as it was"})
        deleted = sandbox.admin.seed_campaign("Ready")
        assert kore.delete(deleted).status_code == 200
        sandbox.admin.put_template("Extra", "Extra body", "cmt-extra")
        running = sandbox.admin.seed_campaign("Ready", fields={"name": "Survivor"})
        assert kore.trigger(running, "play").status_code == 200
        kore.wait_for(running, ["Active"])
        while not sandbox.admin.messages(running):
            time.sleep(0.05)
        kore.close()

    with sandbox:  # a new process, same port, same file
        kore = KoreClient(sandbox)
        assert sandbox.port == port
        summary = sandbox.admin.campaigns()
        assert summary["deletedCount"] == 1
        assert kore.get(deleted).status_code == 404
        assert kore.get(stopped).json()["data"]["name"] == "Kept as it was"
        assert sandbox.admin.resources()["templates"]["Extra"] == {"body": "Extra body", "id": "cmt-extra"}
        assert kore.status_of(running) in {"Active", "Completed"}

        kore.wait_for(running, ["Completed"], timeout=10)
        phones = [m["phone"] for m in sandbox.admin.messages(running)]
        assert sorted(phones) == sorted(p for p in SAMPLE_CONTACTS if p != "+14155550103")
        assert max(Counter(phones).values()) == 1
        assert kore.get(running).json()["data"]["totalMessagesSent"] == len(phones)
        kore.close()


def test_command_line_prints_the_connection_and_stops_on_sigterm(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps({"contact_lists": {"Mine": ["+15550000001"]}, "templates": {"Hello": {"body": "Hello!"}}})
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_campaign_provider.sandbox",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--rate-limit",
            "0",
            "--client-secret",
            "a-command-line-secret-of-32-bytes!!",
            "--send-rate",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        connection = parse_env_line(line)
        assert line.startswith("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT='")
        assert connection["password"] == "a-command-line-secret-of-32-bytes!!"
        config = httpx.get(f"{connection['host']}/_sandbox/config").json()
        assert config["rate_limit_per_window"] is None
        assert config["send_interval_seconds"] == 0.05
        assert httpx.get(f"{connection['host']}/_sandbox/resources").json()["contact_lists"] == {
            "Mine": ["+15550000001"]
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    assert code == 0
    assert proc.stderr is not None
    assert "Traceback" not in proc.stderr.read()


def test_command_line_refuses_bad_settings() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "airflow_campaign_provider.sandbox", "--error-rate", "3"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert "error_rate must be between 0 and 1" in done.stderr


def test_imports_are_cheap_and_airflow_free() -> None:
    loaded = _run(
        "import sys\n"
        "import airflow_campaign_provider.sandbox.pytest_plugin\n"
        "from airflow_campaign_provider.sandbox import SandboxServer\n"
        "heavy = ('fastapi', 'uvicorn', 'starlette', 'httpx', 'pydantic', 'airflow')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "with SandboxServer() as s:\n"
        "    s.admin.seed_campaign('Ready')\n"
        "print('airflow' in sys.modules)"
    )

    assert loaded.splitlines() == ["[]", "False"]


def test_child_process_exits_when_its_parent_goes(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import os\n"
        "from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer, Seed\n"
        "big = Seed(contact_lists={'Big': [f'+1555{i:07d}' for i in range(20_000)]})  # > argv's 128 KiB\n"
        "s = SandboxServer(SandboxConfig(seed=big), subprocess=True).start()\n"
        "assert len(s.admin.resources()['contact_lists']['Big']) == 20_000\n"
        "print(s.pid, flush=True)\n"
        "os._exit(0)\n"
    )
    parent = subprocess.run(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        timeout=60,
    )
    child_pid = int(parent.stdout.split()[-1])

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(child_pid, signal.SIGKILL)
    raise AssertionError("the sandbox child outlived its parent")
