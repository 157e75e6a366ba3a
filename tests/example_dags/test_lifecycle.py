"""The weekly lifecycle example, run with ``dag.test()`` against the sandbox: the happy path, and
the teardown that still removes the campaign when the wait in the middle fails."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor
from tests.example_dags.conftest import (
    assert_every_task_succeeded_and_campaign_deleted,
    kore_calls,
    task_states,
    when_active,
)

DAG_ID = "kore_campaign_weekly_lifecycle"
TASKS = ("create_campaign", "start_campaign", "wait_for_completion", "delete_campaign")


def due_recipients(server: SandboxServer, contact_list: str, dnc_list: str) -> list[str]:
    """The numbers a campaign on ``contact_list`` with ``dnc_list`` should text, sorted."""
    resources = server.admin.resources()
    skip = set(resources["dnc_lists"][dnc_list])
    return sorted(phone for phone in resources["contact_lists"][contact_list] if phone not in skip)


def test_weekly_lifecycle_texts_each_contact_once_and_leaves_nothing_behind(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer
) -> None:
    dag_run = example_dag(DAG_ID).test()

    assert_every_task_succeeded_and_campaign_deleted(dag_run, examples_sandbox, TASKS)
    admin = examples_sandbox.admin
    messages = admin.messages()
    assert len({m["campaignId"] for m in messages}) == 1
    assert sorted(m["phone"] for m in messages) == due_recipients(
        examples_sandbox, "Weekly new customers", "Do not text"
    )
    calls = kore_calls(examples_sandbox)
    assert Counter(calls)["create"] == Counter(calls)["play"] == Counter(calls)["delete"] == 1
    assert "stop" not in calls  # it completed: nothing to stop
    assert calls.index("create") < calls.index("play") < calls.index("delete")
    (create,) = [r for r in admin.requests() if r["method"] == "POST" and r["path"].endswith("/campaign")]
    assert create["body"]["name"] == f"Weekly welcome {dag_run.run_after.strftime('%Y%m%dT%H%M%S')}"
    assert create["body"]["message"]["template_name"] == "Weekly welcome"


def test_teardown_deletes_the_campaign_when_kore_reports_it_stopped_mid_run(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer
) -> None:
    """Someone stops the campaign in Kore while it sends: the wait fails, the teardown deletes it."""
    admin = examples_sandbox.admin
    admin.update_config(send_interval_seconds=1.0)  # Active for about 5 s: time to step in
    with when_active(
        examples_sandbox, lambda watcher, campaign_id: watcher.force_status(campaign_id, "Stopped")
    ) as acted:
        dag_run = example_dag(DAG_ID).test()

    assert len(acted) == 1
    assert dag_run.state == "failed"
    assert task_states(dag_run) == {
        "create_campaign": ["success"],
        "start_campaign": ["success"],
        "wait_for_completion": ["failed"],
        "delete_campaign": ["success"],
    }
    assert admin.campaigns()["liveCount"] == 0
    assert admin.campaigns()["deletedCount"] == 1
    assert Counter(kore_calls(examples_sandbox))["delete"] == 1
    phones = [m["phone"] for m in admin.messages()]
    assert len(phones) == len(set(phones))


def test_teardown_stops_an_active_campaign_before_deleting_it_when_the_wait_breaks(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait fails while the campaign still sends (a triggerer lost, say): the teardown stops
    the send first, then deletes the campaign, and nobody gets a second SMS."""
    from airflow.providers.common.compat.sdk import AirflowFailException

    def broken_wait(self: CampaignStatusSensor, context: Any) -> None:
        raise AirflowFailException("the wait broke (injected by the test)")

    monkeypatch.setattr(CampaignStatusSensor, "execute", broken_wait)
    admin = examples_sandbox.admin
    admin.update_config(send_interval_seconds=2.0)  # about 10 s of sending: still Active at teardown

    dag_run = example_dag(DAG_ID).test()

    assert dag_run.state == "failed"
    assert task_states(dag_run)["wait_for_completion"] == ["failed"]
    assert task_states(dag_run)["delete_campaign"] == ["success"]
    calls = kore_calls(examples_sandbox)
    assert calls.index("play") < calls.index("stop") < calls.index("delete")
    assert Counter(calls)["stop"] == Counter(calls)["delete"] == 1
    assert admin.campaigns()["liveCount"] == 0
    phones = [m["phone"] for m in admin.messages()]
    assert len(phones) == len(set(phones))
    assert len(phones) < len(due_recipients(examples_sandbox, "Weekly new customers", "Do not text"))
