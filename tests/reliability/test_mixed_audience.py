"""Issue 19, done when: a DAG uploads a CSV of mixed-format numbers, creates an SMS and a voice
campaign on that list, waits and exports results, against the sandbox answering as Kore's
samples do: every customer texted once and called at most once — also when the upload fails
after Kore took its batch and Airflow retries it."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_campaign_provider.phones import phone_key
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.seed import WELCOME_BODY
from tests.example_dags.conftest import task_states

DAGS = Path(__file__).parent / "dags"
CONTACTS = (
    "phone,name\n+1 415 555 0401,Ada\n+1-415-555-0402,Grace\n+1 (415) 555-0403,Alan\n(415) 555-0404,Edsger\n"
    "14155550405,Barbara\n415.555.0406,Donald\n+14155550407,Frances\n+1 415 555 0401,Ada again\n"
)
AUDIENCE = {f"+1415555040{n}" for n in range(1, 8)}


@pytest.fixture
def mixed_dag(
    metadata_db: None,
    kore_sandbox: SandboxServer,
    dags_folder: Callable[[Path], None],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Any:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(CONTACTS)
    for name, value in {
        "KORE_MIXED_CONTACTS": str(contacts),
        "KORE_MIXED_RESULTS": str(tmp_path / "results.csv"),
        "KORE_MIXED_TEMPLATE": WELCOME_BODY,
        "KORE_MIXED_POLL_SECONDS": "0.2",
        "KORE_MIXED_IMPORT_TIMEOUT": "0.5",
        "KORE_MIXED_SETTLE_SECONDS": "2.5",
    }.items():
        monkeypatch.setenv(name, value)
    dags_folder(DAGS)
    from tests.airflow_names import DagBag

    bag = DagBag(dag_folder=DAGS / "kore_mixed_audience.py")
    assert bag.import_errors == {}
    return bag.get_dag("kore_mixed_audience")


def by_channel(sandbox: SandboxServer) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for message in sandbox.admin.messages():
        found.setdefault(message["channel"], Counter())[phone_key(message["phone"])] += 1
    return found


def assert_texted_once_and_called_at_most_once(sandbox: SandboxServer) -> None:
    channels = by_channel(sandbox)
    texted = channels.pop("sms")
    (called,) = channels.values()
    assert texted == Counter(AUDIENCE)  # every customer texted, once
    assert set(called) <= AUDIENCE
    assert max(called.values()) == 1  # nobody called twice
    assert set(called) == AUDIENCE - {"+14155550103"}  # the voice DNC list holds none of them


def test_the_mixed_audience_is_texted_once_and_called_at_most_once(
    mixed_dag: Any, kore_sandbox: SandboxServer, tmp_path: Path
) -> None:
    dag_run = mixed_dag.test()

    assert dag_run.state == "success", task_states(dag_run)
    assert_texted_once_and_called_at_most_once(kore_sandbox)
    with (tmp_path / "results.csv").open(newline="") as handle:
        assert {phone_key(row["phoneNumber"]) for row in csv.DictReader(handle)} == AUDIENCE


def test_an_upload_failing_after_kore_took_the_batch_is_retried_without_sending_it_twice(
    mixed_dag: Any, kore_sandbox: SandboxServer
) -> None:
    # Kore takes the batch, answers 500, and imports it after the first try stopped waiting.
    kore_sandbox.admin.update_config(add_contacts_fail_after_accept=1, contact_import_seconds=1.5)

    dag_run = mixed_dag.test()

    assert dag_run.state == "success", task_states(dag_run)
    (upload,) = [ti for ti in dag_run.get_task_instances() if ti.task_id == "upload"]
    assert upload.try_number == 2  # the first try failed: Kore's 500, and no batch in the list in time
    adds = [r for r in kore_sandbox.admin.requests() if r["path"].endswith("/addContacts")]
    assert len(adds) == 1  # the retry found the batch in the list and sent nothing
    assert_texted_once_and_called_at_most_once(kore_sandbox)
