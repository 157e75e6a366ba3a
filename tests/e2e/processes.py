"""Airflow components as processes of a throwaway AIRFLOW_HOME: start, watch, kill, stop.

Each component runs in its own process group with its output in ``<name>.log`` under the home.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from airflow_campaign_provider.sandbox.run_dag import airflow_env, kill_process_group, run_airflow
from tests.servers import free_port

T = TypeVar("T")


def components_env(home: Path, dags: Path, connection_json: str, *, port: int) -> dict[str, str]:
    """``airflow_env`` and what every deployment here adds: this interpreter's ``airflow`` first on
    PATH, DAGs unpaused, the api-server (and the execution API the workers call) on
    127.0.0.1:``port`` with everyone admin and a fresh JWT secret, the DAG folder re-read every
    5 s, and no scheduled runs: only those the test triggers."""
    env = airflow_env(home, dags, connection_json, poll_seconds=1.0)
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        }
    )
    return env


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class RealAirflow:
    """A running Airflow: its home, environment and component processes."""

    home: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    #: Components killed on purpose: their death fails no wait.
    killed: set[str] = field(default_factory=set)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the SQLite metadata DB (read-only; a busy writer is waited for); ``?`` placeholders."""
        database = self.home / "airflow.db"
        if not database.exists():
            return []
        for _ in range(20):
            try:
                with contextlib.closing(
                    sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
                ) as db:
                    return db.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "no such table" not in str(error):
                    raise
                time.sleep(0.5)
        raise TimeoutError(f"the metadata DB stayed locked: {sql}")

    def cli(self, *args: str, timeout: float = 180.0) -> None:
        """Run an ``airflow`` command; fail the test with its output when it fails."""
        log_file = self.home / "cli.log"
        with log_file.open("a") as log:
            code = run_airflow(args, self.env, log, timeout)
        assert code == 0, f"airflow {' '.join(args)} exited {code}:\n{log_file.read_text()[-3000:]}"

    def start(self, component: str, *args: str, name: str | None = None) -> None:
        """Start ``airflow <component> <args>`` in its own process group as ``name``; the
        api-server on the port its environment names."""
        name = name or component
        if component == "api-server":
            args = ("--port", self.env["AIRFLOW__API__PORT"], *args)
        with (self.home / f"{name}.log").open("wb") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "airflow", component, *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def kill(self, name: str) -> None:
        """SIGKILL a component and every process it started, as a machine that dies would."""
        self.killed.add(name)
        proc = self.procs[name]
        for pid in [*descendants(proc.pid), proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self) -> None:
        """Ask every component to stop at once, then end whatever is left of each group."""
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            kill_process_group(proc)

    def diagnosis(self) -> str:
        """What each component last said, and whether it is still alive."""
        parts = []
        for name, proc in self.procs.items():
            text = (self.home / f"{name}.log").read_text(errors="replace")
            parts.append(f"--- {name} (exit code {proc.poll()}):\n{text[-2500:]}")
        return "\n".join(parts)

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float) -> T:
        """Poll ``probe`` every half second until it returns something; bounded by ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = {
                name: proc.returncode
                for name, proc in self.procs.items()
                if name not in self.killed and proc.poll() is not None
            }
            assert not dead, f"Airflow components died while waiting for {what}: {dead}\n{self.diagnosis()}"
            found = probe()
            if found is not None:
                return found
            time.sleep(0.5)
        raise AssertionError(f"gave up after {timeout:g} s waiting for {what}\n{self.diagnosis()}")

    def wait_for_run_end(self, dag_id: str, timeout: float) -> str:
        """The state of ``dag_id``'s run once it has ended (a run is queued before it runs)."""

        def ended() -> str | None:
            states = self.query("SELECT state FROM dag_run WHERE dag_id = ?", dag_id)
            return next((state for (state,) in states if state not in ("queued", "running")), None)

        return self.wait_for("the DAG run to finish", ended, timeout)


@contextlib.contextmanager
def local_airflow(
    home: Path, dags: Path, connection_json: str, components: Sequence[str], **settings: str
) -> Iterator[RealAirflow]:
    """``components`` of an Airflow with the LocalExecutor on a fresh SQLite metadata DB in
    ``home`` (``components_env`` and ``settings``, by variable name), stopped on the way out."""
    env = components_env(home, dags, connection_json, port=free_port())
    env.update({"AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__CORE__PARALLELISM": "4", **settings})
    airflow = RealAirflow(home, env)
    try:
        airflow.cli("db", "migrate")
        for component in components:
            airflow.start(component)
        yield airflow
    finally:
        airflow.stop()
