"""Real Redis and PostgreSQL servers for tests: Debian's packages, installed when missing, each
started in a temporary folder on 127.0.0.1 and stopped (with its files) when the test is done.

A test that cannot have one (no apt-get, not root, the install fails) is skipped, saying why.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

POSTGRES_BIN = Path("/usr/lib/postgresql")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_debian_package(package: str, program: str) -> str:
    """The path of ``program``, installing Debian's ``package`` first when it is missing."""
    found = _find(program)
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(f"{program} is missing and cannot be installed here (needs apt-get as root): {package}")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
        done = subprocess.run(
            [command[0], "-o", "DPkg::Lock::Timeout=300", *command[1:]],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"{program} is missing and `{' '.join(command)}` failed: {done.stderr[-500:]}")
    found = _find(program)
    if not found:
        pytest.skip(f"{package} installed but {program} is still missing")
    return found


def _find(program: str) -> str | None:
    found = shutil.which(program)
    if found:
        return found
    versions = sorted(POSTGRES_BIN.glob(f"*/bin/{program}"))  # Debian keeps initdb off the PATH
    return str(versions[-1]) if versions else None


def _wait_until_listening(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within 60 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A throwaway redis-server: no persistence, loopback only."""
    program = ensure_debian_package("redis-server", "redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="kore-redis-") as folder:
        log = Path(folder) / "redis.log"
        with log.open("wb") as output:
            proc = subprocess.Popen(
                [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                cwd=folder,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            _wait_until_listening(port, proc, "redis-server", log)
            yield RedisServer(port, proc)
        finally:
            _stop(proc)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster owned by the ``postgres`` user; yields a SQLAlchemy URL."""
    initdb = ensure_debian_package("postgresql", "initdb")
    postgres = str(Path(initdb).with_name("postgres"))
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="kore-postgres-"))
    as_postgres = ["su", "postgres", "-s", "/bin/sh", "-c"] if os.geteuid() == 0 else ["sh", "-c"]
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        data = folder / "data"
        log = folder / "postgres.log"
        subprocess.run(
            [*as_postgres, f"{initdb} -D {data} -A trust -U airflow --no-sync -E UTF8 >/dev/null"],
            check=True,
            timeout=120,
        )
        options = (
            f"-D {data} -p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        proc = subprocess.Popen(
            [*as_postgres, f"exec {postgres} {options} >{log} 2>&1"], stdin=subprocess.DEVNULL
        )
        try:
            _wait_until_listening(port, proc, "postgres", log)
            url = f"postgresql+psycopg2://airflow@127.0.0.1:{port}/postgres"
            yield url
        finally:
            # A fast shutdown: a smart one would wait for every client to hang up.
            pg_ctl = Path(initdb).with_name("pg_ctl")
            subprocess.run(
                [*as_postgres, f"{pg_ctl} -D {data} -m fast -w -t 30 stop >/dev/null 2>&1"],
                check=False,
                timeout=60,
            )
            _stop(proc)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
