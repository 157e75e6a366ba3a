"""Fixtures of the example-DAG tests: the examples' DAG bag and a sandbox holding their seed data."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.admin import SandboxAdmin
from airflow_campaign_provider.sandbox.config import load_seed

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
SEED_FILE = EXAMPLES / "data" / "sandbox_seed.json"
#: How often the examples read a status in these tests (their default, 30 s, is for real campaigns).
POLL_SECONDS = "1"


@pytest.fixture
def examples_sandbox(kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """The shared sandbox, reset, holding the contact lists, DNC lists and templates of the
    examples' seed file, and the examples set to poll it every second."""
    admin = kore_sandbox.admin
    seed = load_seed(SEED_FILE)
    for name, phones in seed.contact_lists.items():
        admin.put_contact_list(name, phones)
    for name, phones in seed.dnc_lists.items():
        admin.put_dnc_list(name, phones)
    for name, template in seed.templates.items():
        admin.put_template(name, template.body, template.id)
    monkeypatch.setenv("KORE_EXAMPLE_POLL_SECONDS", POLL_SECONDS)
    return kore_sandbox


@pytest.fixture
def example_dag(
    metadata_db: None, examples_sandbox: SandboxServer, dags_folder: Callable[[Path], None]
) -> Callable[[str], Any]:
    """Load one example DAG from ``example_dags/``, ready for ``dag.test()`` against the sandbox."""
    dags_folder(EXAMPLES)

    def load(dag_id: str) -> Any:
        from tests.airflow_names import DagBag

        bag = DagBag(dag_folder=EXAMPLES / f"{dag_id}.py")
        assert bag.import_errors == {}
        return bag.get_dag(dag_id)

    return load


def task_states(dag_run: Any) -> dict[str, list[str]]:
    """``{task_id: [state of each map index, in order]}`` of a finished DAG run."""
    states: dict[str, list[str]] = {}
    for ti in sorted(dag_run.get_task_instances(), key=lambda ti: (ti.task_id, ti.map_index)):
        states.setdefault(ti.task_id, []).append(str(ti.state))
    return states


def assert_every_task_succeeded_and_campaign_deleted(
    dag_run: Any, server: SandboxServer, tasks: Iterable[str]
) -> None:
    """The run and each of ``tasks`` succeeded (each once); its one campaign is deleted, none live."""
    assert dag_run.state == "success"
    assert task_states(dag_run) == {task: ["success"] for task in tasks}
    campaigns = server.admin.campaigns()
    assert campaigns["liveCount"] == 0
    assert campaigns["deletedCount"] == 1


def kore_calls(server: SandboxServer) -> list[str]:
    """The Kore requests the sandbox received, oldest first, as ``"METHOD action"`` lines:
    ``POST create``, ``GET status``, ``GET list``, ``POST play``, ``POST stop``, ``DELETE``."""
    return [describe_request(record) for record in server.admin.requests()]


def describe_request(record: dict[str, Any]) -> str:
    """One request-log record as ``"METHOD action"``."""
    from airflow_campaign_provider.sandbox.run_dag import request_kind

    return request_kind(record)


def xcom_result(dag_run: Any, task_id: str, map_index: int = -1) -> Any:
    """What a task instance of a finished run returned (its ``return_value`` XCom)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=dag_run.run_id,
                dag_ids=dag_run.dag_id,
                task_ids=task_id,
                map_indexes=map_index,
                key="return_value",
            )
        ).one()
        return XComModel.deserialize_value(row)


def load_example_module(dag_id: str) -> Any:
    """An example DAG file imported as a module, for its plain functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"example_{dag_id}", EXAMPLES / f"{dag_id}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def when_active(
    server: SandboxServer, act: Callable[[SandboxAdmin, str], None], timeout: float = 120.0
) -> Iterator[list[str]]:
    """Call ``act(admin, campaign_id)`` from a thread, with an admin client of its own, as soon
    as a campaign is really Active; yields the list of the ids acted on."""
    acted: list[str] = []
    done = threading.Event()

    def watch() -> None:
        admin = SandboxAdmin(server.url)
        deadline = time.monotonic() + timeout
        try:
            while not done.is_set() and time.monotonic() < deadline:
                active = [c["id"] for c in admin.campaigns()["campaigns"] if c["status"] == "Active"]
                if active:
                    act(admin, active[0])
                    acted.append(active[0])
                    return
                time.sleep(0.02)
        finally:
            admin.close()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield acted
    finally:
        done.set()
        thread.join(timeout=10)
