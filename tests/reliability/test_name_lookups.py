"""A create's look-ups by name: they cost a page, not the account, and two racing creates of one
name leave one campaign, on a server that does not refuse taken names (Kore does not say it does).

Through the operators and the hook against the sandbox over real HTTP; the race is forced with a
barrier that both creates must reach before either is sent, never with sleeps.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_campaign_provider.api import creation_order
from airflow_campaign_provider.exceptions import CampaignConflictError
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.campaign import CreateSmsCampaignOperator, StartCampaignOperator
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.jsonutil import iso
from airflow_campaign_provider.sandbox.run_dag import request_kind
from airflow_campaign_provider.sandbox.seed import SAMPLE_CONTACTS, SAMPLE_DNC_CONTACTS
from airflow_campaign_provider.status import WaitGoal
from tests.operators.conftest import valid_args

from .harness import FakeTaskInstance

NAME = "Racing reminder"
RACE_TIMEOUT = 30.0


def run_context(began: datetime) -> Any:
    """A task context whose dag run began at ``began`` (what Airflow passes: ``run_after`` …)."""
    return {"ti": FakeTaskInstance(), "dag_run": SimpleNamespace(run_after=began, logical_date=None)}


def list_calls(sandbox: SandboxServer) -> int:
    return sum(request_kind(record) == "list" for record in sandbox.admin.requests())


def seed_old_campaigns(sandbox: SandboxServer, count: int, newest: datetime) -> None:
    """``count`` campaigns created one minute apart, the last a minute before ``newest``."""
    sandbox.admin.seed_campaigns(
        [
            {
                "fields": {
                    "name": f"Older {i}",
                    "createdAt": iso((newest - timedelta(minutes=count - i)).timestamp()),
                }
            }
            for i in range(count)
        ]
    )


@pytest.fixture
def racing_creates(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every create holds at a barrier until two are ready to go, so both are sent after both
    look-ups found the name free; returns the campaigns Kore answered, in the order they came."""
    barrier = threading.Barrier(2, timeout=RACE_TIMEOUT)
    answered: list[dict[str, Any]] = []
    create = CampaignHook.create_sms_campaign

    def racing(hook: CampaignHook, payload: Any) -> dict[str, Any]:
        barrier.wait()
        campaign = create(hook, payload)
        answered.append(campaign)
        return campaign

    monkeypatch.setattr(CampaignHook, "create_sms_campaign", racing)
    return answered


def test_two_racing_creates_of_one_name_keep_the_first_created_and_text_each_contact_once(
    kore_sandbox: SandboxServer, racing_creates: list[dict[str, Any]]
) -> None:
    admin = kore_sandbox.admin
    admin.update_config(refuse_taken_names=False)  # a server that lets a name be taken twice
    began = datetime.now(timezone.utc)

    def create(task: int) -> str:
        operator = CreateSmsCampaignOperator(
            task_id=f"create_{task}", **valid_args(name=NAME, poll_interval=0.05)
        )
        return operator.execute(run_context(began))

    with ThreadPoolExecutor(2) as pool:
        ids = list(pool.map(create, (1, 2), timeout=RACE_TIMEOUT))

    assert len(racing_creates) == 2  # two campaigns were really made
    first = min(racing_creates, key=creation_order)
    left = [c for c in admin.campaigns()["campaigns"] if c["name"] == NAME]
    assert [c["id"] for c in left] == [first["_id"]]
    assert ids == [first["_id"], first["_id"]]  # both tasks hold the one that is left
    assert admin.campaigns()["deletedCount"] == 1

    assert StartCampaignOperator(task_id="start", campaign_id=ids[0]).execute({}) == "Active"
    CampaignHook().wait_for_campaign_status(ids[0], WaitGoal.of("Completed"), timeout=30, poll_interval=0.05)
    phones = [m["phone"] for m in admin.messages()]
    assert sorted(phones) == sorted(set(SAMPLE_CONTACTS) - set(SAMPLE_DNC_CONTACTS))
    assert {m["campaignId"] for m in admin.messages()} == {ids[0]}


def test_a_create_looks_up_one_page_at_any_account_size(kore_sandbox: SandboxServer) -> None:
    began = datetime.now(timezone.utc)
    seed_old_campaigns(kore_sandbox, 450, newest=began - timedelta(hours=1))  # 9 pages of 50, 5 of 100
    kore_sandbox.admin.clear_requests()

    operator = CreateSmsCampaignOperator(task_id="create", **valid_args(name=NAME, poll_interval=0.05))
    operator.execute(run_context(began))

    assert list_calls(kore_sandbox) == 2  # before creating, and after (a concurrent twin?)


def test_a_recent_same_named_campaign_is_found_newest_first(kore_sandbox: SandboxServer) -> None:
    began = datetime.now(timezone.utc)
    seed_old_campaigns(kore_sandbox, 250, newest=began - timedelta(hours=1))
    kore_sandbox.admin.seed_campaign(fields={"name": NAME})  # created now: this run's own
    kore_sandbox.admin.clear_requests()

    operator = CreateSmsCampaignOperator(
        task_id="create", **valid_args(name=NAME, if_exists="fail", poll_interval=0.05)
    )
    with pytest.raises(CampaignConflictError, match=NAME):
        operator.execute(run_context(began))
    assert list_calls(kore_sandbox) == 1


def test_a_server_that_ignores_the_sort_is_read_whole_and_says_so(
    kore_sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    began = datetime.now(timezone.utc)
    seed_old_campaigns(kore_sandbox, 250, newest=began - timedelta(hours=1))
    own = kore_sandbox.admin.seed_campaign(fields={"name": NAME})  # listed last, oldest first
    kore_sandbox.admin.set_faults(list_pages="unsorted")
    kore_sandbox.admin.clear_requests()

    operator = CreateSmsCampaignOperator(
        task_id="create", **valid_args(name=NAME, if_exists="fail", poll_interval=0.05)
    )
    with pytest.raises(CampaignConflictError, match=own):
        operator.execute(run_context(began))
    assert "reading the whole account" in capsys.readouterr().out  # the hook logs to stdout
    assert list_calls(kore_sandbox) == 1 + 3  # page 1 shows the order ignored; then 251 at 100 a page


def test_without_a_known_start_the_first_look_up_reads_the_account_and_later_ones_a_page(
    kore_sandbox: SandboxServer,
) -> None:
    seed_old_campaigns(kore_sandbox, 250, newest=datetime.now(timezone.utc) - timedelta(hours=1))
    kore_sandbox.admin.clear_requests()

    CreateSmsCampaignOperator(task_id="create", **valid_args(name=NAME, poll_interval=0.05)).execute(
        {"ti": FakeTaskInstance()}
    )
    assert list_calls(kore_sandbox) == 3 + 1  # the whole account once, then newest first
