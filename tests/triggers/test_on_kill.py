"""A deferred wait's ``on_kill`` (Airflow 3.3 calls it when a person acts on the deferred task):
the campaign its task started is stopped, against the sandbox; without ``stop_on_kill`` nothing is."""

from __future__ import annotations

import pytest

from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.triggers.campaign import CampaignStatusTrigger


def status_of(sandbox: SandboxServer, campaign_id: str) -> str:
    return next(str(c["status"]) for c in sandbox.admin.campaigns()["campaigns"] if c["id"] == campaign_id)


def wait_trigger(campaign_id: str, **kwargs: object) -> CampaignStatusTrigger:
    return CampaignStatusTrigger(campaign_id, target_statuses=["Completed"], poll_interval=1.0, **kwargs)


async def test_on_kill_stops_the_campaign_its_task_started(kore_sandbox: SandboxServer) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign(status="Active", complete_in_seconds=600)
    trigger = wait_trigger(campaign_id, stop_on_kill=True)

    await trigger.on_kill()

    assert status_of(kore_sandbox, campaign_id) == "Stopped"


@pytest.mark.parametrize("status", ["Completed", "Stopped"])
async def test_on_kill_leaves_a_finished_campaign_as_it_is(kore_sandbox: SandboxServer, status: str) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign(status=status)
    await wait_trigger(campaign_id, stop_on_kill=True).on_kill()
    assert status_of(kore_sandbox, campaign_id) == status
    assert not [
        r for r in kore_sandbox.admin.requests() if "trigger=stop" in r["query"] and r["status"] == 200
    ]


async def test_without_stop_on_kill_a_kill_only_ends_the_wait(kore_sandbox: SandboxServer) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign(status="Active", complete_in_seconds=600)
    trigger = wait_trigger(campaign_id)

    await trigger.on_kill()

    assert status_of(kore_sandbox, campaign_id) == "Active"
    assert kore_sandbox.admin.requests() == []


def test_stop_on_kill_survives_serialisation() -> None:
    campaign_id = "cd-e7110489-a30a-5d1e-80ee-f246cc800000"
    _, kwargs = wait_trigger(campaign_id, stop_on_kill=True).serialize()
    assert kwargs["stop_on_kill"] is True
    assert CampaignStatusTrigger(**kwargs).stop_on_kill
    assert "stop_on_kill" not in wait_trigger(campaign_id).serialize()[1]
