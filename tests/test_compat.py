"""The Airflow-version shims of ``_compat``, on whichever supported Airflow runs the suite."""

from __future__ import annotations

import ast
import threading
import uuid
from pathlib import Path

import pytest

from airflow_campaign_provider import _compat
from airflow_campaign_provider.hooks.campaign_async import CampaignAsyncHook
from tests.hooks.conftest import STREAM_ID, connection_json


async def test_amask_secret_hides_the_secret_in_what_airflow_logs():
    from airflow.providers.common.compat.sdk import redact

    secret = f"kore-compat-{uuid.uuid4().hex}"
    assert redact(f"jwt {secret}") == f"jwt {secret}"

    await _compat.amask_secret(secret)

    assert redact(f"jwt {secret}") == "jwt ***"


async def test_aread_connection_reads_off_the_event_loop_thread(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json())
    real = CampaignAsyncHook.get_connection.__func__
    threads: list[bool] = []

    def recording(cls: type, *args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(CampaignAsyncHook, "get_connection", classmethod(recording))

    conn, extra = await _compat.aread_connection(CampaignAsyncHook(), "kore_campaign_default")

    assert conn.conn_type == "kore_campaign"
    assert extra["stream_id"] == STREAM_ID
    assert True not in threads  # the blocking lookup, where used at all, ran in a worker thread


@pytest.mark.parametrize("name", _compat.__all__)
def test_every_shimmed_name_resolves(name):
    assert getattr(_compat, name) is not None


def test_no_module_imports_a_moved_name_past_the_shims():
    """A name ``_compat`` shims, imported straight from ``airflow.sdk``, breaks on older Airflow.

    The newest Airflow has them all there, so only the older lines of ``make compat`` would
    notice; this check makes ``make test`` notice too.
    """
    package = Path(_compat.__file__).parent
    shimmed = set(_compat.__all__)
    bypasses = [
        f"{path.relative_to(package.parent)}:{node.lineno} imports {alias.name} from {node.module}"
        for path in sorted(package.rglob("*.py"))
        if path != Path(_compat.__file__)
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("airflow.sdk")
        for alias in node.names
        if alias.name in shimmed
    ]
    assert bypasses == []
