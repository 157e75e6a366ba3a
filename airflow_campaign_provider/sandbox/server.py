"""`SandboxServer`: run a sandbox in a background thread or as a child process.

Importing this module is cheap: uvicorn, FastAPI and httpx are only imported when a server
starts, so the pytest plugin costs nothing until a sandbox fixture is used.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import socket
import subprocess as sp
import sys
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_campaign_provider.sandbox.config import SandboxConfig, config_to_json

if TYPE_CHECKING:
    from types import TracebackType

    import uvicorn

    from airflow_campaign_provider.sandbox.admin import SandboxAdmin

CONN_TYPE = "kore_campaign"
DEFAULT_CONN_ID = "kore_campaign_default"


def conn_env_name(conn_id: str) -> str:
    """The environment variable Airflow reads a connection from."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def format_env_line(conn_id: str, connection_json: str) -> str:
    """`AIRFLOW_CONN_…='{…}'`, quoted for a POSIX shell (prefix `export ` to use it)."""
    return f"{conn_env_name(conn_id)}={shlex.quote(connection_json)}"


def parse_env_line(line: str) -> dict[str, Any]:
    """The connection dict of a line written by `format_env_line`."""
    value = line.strip().partition("=")[2]
    return dict(json.loads(shlex.split(value)[0]))


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class SandboxServer:
    """A running Kore.ai campaign sandbox; use as a context manager or call start()/stop().

    By default the server runs in a daemon thread of this process on a free loopback port.
    With `subprocess=True` it runs as `python -m airflow_campaign_provider.sandbox` instead:
    it then has its own GIL (for benchmarks), and `stop()` then `start()` restarts it on the
    same port — with `db_path` set, with all its state.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        subprocess: bool = False,
        host: str | None = None,
        port: int | None = None,
        db_path: str | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        config = config or SandboxConfig()
        self.config = replace(
            config,
            host=config.host if host is None else host,
            port=config.port if port is None else port,
            db_path=config.db_path if db_path is None else db_path,
        )
        self._startup_config = self.config
        self.subprocess = subprocess
        self.startup_timeout = startup_timeout
        self._admin: SandboxAdmin | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._proc: sp.Popen[str] | None = None
        self._stdout_reader: threading.Thread | None = None

    # ---------------------------------------------------------------- identity
    @property
    def port(self) -> int:
        """The TCP port (known once started; kept across a restart)."""
        return self.config.port

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8765 (the connection's host)."""
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.port}"

    @property
    def client_id(self) -> str:
        """The JWT app's client id (the `appId` claim)."""
        return self.config.client_id

    @property
    def client_secret(self) -> str:
        """The HS256 signing secret (follows a rotation made through `admin.update_config`)."""
        return self.config.client_secret

    @property
    def account_id(self) -> str:
        """The account id (header and query parameter)."""
        return self.config.account_id

    @property
    def stream_id(self) -> str:
        """The bot / stream id (path) — also the iid header unless `config.iid` is set."""
        return self.config.stream_id

    @property
    def iid(self) -> str:
        """The iid header value the server expects."""
        return self.config.effective_iid

    @property
    def pid(self) -> int:
        """The serving process: the child in subprocess mode, else this one."""
        return self._proc.pid if self._proc is not None else os.getpid()

    @property
    def admin(self) -> SandboxAdmin:
        """Client for the admin endpoints (only while running; made on first use)."""
        if not self.running:
            raise RuntimeError("the sandbox is not running")
        if self._admin is None:
            from airflow_campaign_provider.sandbox.admin import SandboxAdmin

            self._admin = SandboxAdmin(self.url, on_config=self._follow_config)
        return self._admin

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None or self._proc is not None

    def connection(self) -> dict[str, Any]:
        """The Airflow connection (as a dict) pointing at this sandbox."""
        extra = {"account_id": self.account_id, "stream_id": self.stream_id}
        if self.config.iid:
            extra["iid"] = self.config.iid
        return {
            "conn_type": CONN_TYPE,
            "host": self.url,
            "login": self.client_id,
            "password": self.client_secret,
            "extra": extra,
        }

    def connection_json(self) -> str:
        """The connection as the JSON Airflow accepts in AIRFLOW_CONN_… variables."""
        return json.dumps(self.connection(), separators=(",", ":"))

    def connection_env(self, conn_id: str = DEFAULT_CONN_ID) -> dict[str, str]:
        """`{"AIRFLOW_CONN_<CONN_ID>": connection_json()}`, ready for os.environ or monkeypatch."""
        return {conn_env_name(conn_id): self.connection_json()}

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> SandboxServer:
        """Start serving (again, on the same port after a stop) with the startup config."""
        if self.running:
            raise RuntimeError("the sandbox is already running")
        self.config = self._startup_config
        if self.subprocess:
            self._start_process()
        else:
            self._start_thread()
        self._startup_config = replace(self._startup_config, port=self.port)
        return self

    def _follow_config(self, config: SandboxConfig) -> None:
        self.config = config

    def stop(self) -> None:
        """Stop serving (graceful: state is flushed and the port released). Safe to call twice."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._uvicorn is not None and self._thread is not None:
            self._uvicorn.should_exit = True
            self._thread.join(timeout=30)
            self._uvicorn = self._thread = None
        if self._proc is not None and self._stdout_reader is not None:
            self._stop_process(self._proc)
            self._stdout_reader.join(timeout=5)
            self._proc = self._stdout_reader = None

    def _start_thread(self) -> None:
        import uvicorn

        from airflow_campaign_provider.sandbox.app import create_app

        sock = _bind(self.config.host, self.config.port)
        self.config = replace(self.config, port=sock.getsockname()[1])
        try:
            app = create_app(self.config)
        except BaseException:
            sock.close()
            raise
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_config=None,
                log_level="warning",
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=5,
            )
        )
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"kore-sandbox-{self.port}", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise RuntimeError(f"the sandbox did not start on {self.url}")
            time.sleep(0.005)
        self._uvicorn, self._thread = server, thread

    def _start_process(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "airflow_campaign_provider.sandbox",
            "--config",
            "-",
            "--exit-on-stdin-eof",
            "--quiet",
        ]
        proc = sp.Popen(cmd, stdin=sp.PIPE, stdout=sp.PIPE, text=True, bufsize=1)
        assert proc.stdin is not None
        proc.stdin.write(config_to_json(self.config) + "\n")  # stdin: no size limit, unlike argv
        proc.stdin.flush()  # and left open: its end tells the child that this process is gone
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(proc, lines), name="kore-sandbox-stdout", daemon=True)
        reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self._stop_process(proc)
                raise RuntimeError(f"the sandbox process did not start (exit code {proc.poll()})")
            if line.startswith("AIRFLOW_CONN_"):
                break
        port = urlsplit(parse_env_line(line)["host"]).port
        assert port is not None
        self.config = replace(self.config, port=port)
        self._proc, self._stdout_reader = proc, reader

    @staticmethod
    def _stop_process(proc: sp.Popen[str]) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except sp.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc.stdin is not None:
            proc.stdin.close()


def _pump(proc: sp.Popen[str], lines: queue.Queue[str | None]) -> None:
    """Forward the child's stdout lines (so its pipe never fills), then None at EOF."""
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)
    proc.stdout.close()
