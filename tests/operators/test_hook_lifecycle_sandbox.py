"""The lifecycle the hook owns, against the sandbox: what a TaskFlow task or a deferring
operator gets without any operator logic on top."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk import task

from airflow_campaign_provider.api import campaign_id_of
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.campaign import StartCampaignOperator
from airflow_campaign_provider.payload import SmsCampaignSpec
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.status import READY_GOAL
from airflow_campaign_provider.triggers.poller import PollerOptions
from tests.reliability.harness import run_task, running_triggerer, task_context
from tests.waiting import wait_until

from .conftest import valid_args


class WorkerLost(Exception):
    """The worker died after its calls reached Kore.ai, before the task could report success."""


def campaign_status(sandbox: SandboxServer, campaign_id: str) -> str | None:
    for campaign in sandbox.admin.campaigns()["campaigns"]:
        if campaign["id"] == campaign_id:
            return str(campaign["status"])
    return None


def plays_and_creates(sandbox: SandboxServer) -> tuple[int, int]:
    requests = sandbox.admin.requests()
    creates = [r for r in requests if r["method"] == "POST" and r["path"].endswith("/campaign")]
    plays = [r for r in requests if "trigger=play" in r["query"]]
    return len(creates), len(plays)


def test_a_retried_taskflow_task_creates_one_campaign_and_plays_it_once(
    kore_sandbox: SandboxServer,
) -> None:
    tries: list[int] = []

    @task(retries=1)
    def launch(name: str) -> str:
        tries.append(1)
        hook = CampaignHook()
        campaign = hook.create_sms_campaign_once(SmsCampaignSpec(**valid_args(name=name)))
        campaign_id = campaign_id_of(campaign)
        assert campaign_id is not None
        hook.wait_for_campaign_status(campaign_id, READY_GOAL, timeout=30, poll_interval=0.02)
        status = hook.start_campaign_once(campaign_id, is_retry=len(tries) > 1).status
        if len(tries) == 1:
            raise WorkerLost(campaign_id)
        return status

    with pytest.raises(WorkerLost) as lost:
        launch.function("Retried launch")
    # The retry finds the campaign by name and sees it played (Active, or Completed by now).
    assert launch.function("Retried launch") in ("Active", "Completed")

    campaign_id = str(lost.value)
    assert [c["id"] for c in kore_sandbox.admin.campaigns()["campaigns"]] == [campaign_id]
    assert plays_and_creates(kore_sandbox) == (1, 1)
    # the sandbox texts after the play, on its own thread: read the messages once it is done
    wait_until(
        lambda: campaign_status(kore_sandbox, campaign_id) == "Completed", what="the campaign completing"
    )
    sent = [m["phone"] for m in kore_sandbox.admin.messages(campaign_id)]
    assert len(sent) == len(set(sent)) > 0  # nobody texted twice


def test_a_deferred_start_waits_on_the_stream_it_names_not_the_connections(
    kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection: dict[str, Any] = kore_sandbox.connection()
    connection["extra"] = {**connection["extra"], "stream_id": "st-of-another-bot"}
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", json.dumps(connection))
    campaign_id = kore_sandbox.admin.seed_campaign("Ready")

    def make() -> StartCampaignOperator:
        return StartCampaignOperator(
            task_id="start",
            campaign_id=campaign_id,
            stream_id=kore_sandbox.stream_id,
            deferrable=True,
            wait_for_completion=True,
            poll_interval=0.1,
            timeout=60,
        )

    with running_triggerer(PollerOptions(budget_window_seconds=1.0)) as triggerer:
        assert run_task(make, task_context(), tries=1, triggerer=triggerer) == "Completed"
        assert triggerer.fired == 1

    paths = {r["path"] for r in kore_sandbox.admin.requests()}
    assert all(f"/{kore_sandbox.stream_id}/" in path for path in paths), paths
    assert plays_and_creates(kore_sandbox) == (0, 1)
