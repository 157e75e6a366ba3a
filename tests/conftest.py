"""Test settings shared by the whole suite.

Airflow reads AIRFLOW_HOME when first imported, so a throwaway home is set before anything
imports it: the suite never touches a developer's real ~/airflow.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

    from airflow_campaign_provider.api import ApiRequest
    from airflow_campaign_provider.sandbox import SandboxServer

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="campaign-provider-airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


@pytest.fixture(scope="session")
def metadata_db() -> None:
    """Airflow's metadata DB in the suite's throwaway AIRFLOW_HOME, made once per session.

    ``initdb`` is what ``airflow db migrate`` runs on an empty database, minus a second interpreter.
    """
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture
def dags_folder(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Point Airflow's dags-folder bundle at a folder for this test: ``dag.test()`` only finds
    DAGs there, and Airflow read the folder's path when it was first imported."""

    def use(folder: Path) -> None:
        from airflow import settings

        monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(folder))
        monkeypatch.setattr(settings, "DAGS_FOLDER", str(folder))

    return use


@pytest.fixture
def minted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every JWT the provider mints during the test, in order (the real minter runs, wrapped)."""
    from airflow_campaign_provider.api import TokenMinter

    tokens: list[str] = []
    mint = TokenMinter._mint

    def recording_mint(self: Any, now: float, *, with_jti: bool) -> str:
        token = mint(self, now, with_jti=with_jti)
        tokens.append(token)
        return token

    monkeypatch.setattr(TokenMinter, "_mint", recording_mint)
    return tokens


@pytest.fixture
def unredacted_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's log redaction off, in both its copies (core's and the task SDK's): the JWT
    pattern matches nothing and the secrets masker leaves every value as it is.

    A leak test runs with it, so it proves the provider never writes a secret, not only that
    Airflow would mask one."""
    import importlib
    import re

    for package in ("airflow._shared", "airflow.sdk._shared"):
        structlog_module = importlib.import_module(f"{package}.logging.structlog")
        masker_module = importlib.import_module(f"{package}.secrets_masker.secrets_masker")
        monkeypatch.setattr(structlog_module, "JWT_PATTERN", re.compile(r"(?!)"))
        monkeypatch.setattr(masker_module.SecretsMasker, "redact", lambda self, item, *args, **kwargs: item)


# --- the tables of figures the run prints at its end (tests/figures.py) ---------------------------


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A pytest-xdist worker hands its tables to the controller, which prints them."""
    from tests.figures import FIGURES

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["figures"] = [[title, [list(row) for row in rows]] for title, rows in FIGURES]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """The controller gathers the tables of each worker that finished."""
    from tests.figures import add_figures

    for title, rows in getattr(node, "workeroutput", {}).get("figures", []):
        add_figures(title, [(what, figure) for what, figure in rows])


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    from tests.figures import FIGURES, format_table

    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for title, rows in FIGURES:
        terminalreporter.write_line(format_table(title, rows))
        terminalreporter.write_line("")


@pytest.fixture
def sandbox_request_kind(kore_sandbox: SandboxServer) -> Callable[[ApiRequest], str]:
    """``sandbox_request_kind(request)``: the kind (create, play, stop…) the sandbox's request log
    will give a request the hook is about to send, named from the route it matches there, so a test
    that acts on one kind before it is sent uses the log's own names (``start_sms_campaign`` and
    ``trigger_voice_campaign`` are plays and stops too, whatever their paths)."""
    from dataclasses import replace
    from urllib.parse import urlencode

    from airflow_campaign_provider.sandbox.app import create_app
    from airflow_campaign_provider.sandbox.run_dag import request_kind

    routes = create_app(replace(kore_sandbox.config, db_path=None))  # its routes only; never served

    def kind(request: ApiRequest) -> str:
        route = routes.route_of(
            {"type": "http", "method": request.method, "path": request.path, "root_path": ""}
        )
        record = {
            "method": request.method,
            "path": request.path,
            "query": urlencode(request.params),
            "operation": route[0] if route else None,
        }
        return request_kind(record)

    return kind
