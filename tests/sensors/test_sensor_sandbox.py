"""CampaignStatusSensor against the sandbox, in poke mode and deferred to its trigger."""

from __future__ import annotations

import asyncio

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor
from airflow_campaign_provider.triggers.campaign import CampaignWaitFailedError
from tests.triggers.conftest import fire


def seed_active(sandbox: SandboxServer, complete_in: float) -> str:
    return sandbox.admin.seed_campaign("Active", complete_in_seconds=complete_in)


def test_poke_mode_waits_until_the_campaign_completes(kore_sandbox):
    # Two seconds of Active at 0.1 s pokes: several pokes even on a loaded CI machine.
    campaign_id = seed_active(kore_sandbox, 2.0)
    sensor = CampaignStatusSensor(task_id="wait", campaign_id=campaign_id, poke_interval=0.1, timeout=20)
    assert sensor.execute({}) == "Completed"
    assert 3 <= len(kore_sandbox.admin.requests()) <= 40


def test_poke_mode_fails_at_once_on_a_deleted_campaign(kore_sandbox):
    campaign_id = seed_active(kore_sandbox, 60)
    CampaignHook().delete_campaign(campaign_id)
    with pytest.raises(CampaignWaitFailedError, match="404"):
        CampaignStatusSensor(task_id="wait", campaign_id=campaign_id, poke_interval=0.1).execute({})


def test_poke_mode_fails_at_once_on_a_failure_status(kore_sandbox):
    """A campaign stopped in Kore fails the wait on the next poke, not at the sensor's timeout."""
    campaign_id = seed_active(kore_sandbox, 60)
    CampaignHook().stop_campaign(campaign_id)
    kore_sandbox.admin.clear_requests()
    sensor = CampaignStatusSensor(task_id="wait", campaign_id=campaign_id, poke_interval=0.1, timeout=5)
    with pytest.raises(CampaignWaitFailedError, match="reached failure status 'Stopped'"):
        sensor.execute({})
    assert [r["path"].rsplit("/", 2)[-2:] for r in kore_sandbox.admin.requests()] == [[campaign_id, "status"]]


def test_poke_mode_fails_on_a_failure_status_the_task_names(kore_sandbox):
    campaign_id = seed_active(kore_sandbox, 60)
    sensor = CampaignStatusSensor(
        task_id="wait",
        campaign_id=campaign_id,
        target_statuses=["Completed"],
        failure_statuses=["Active"],
        poke_interval=0.1,
        timeout=5,
    )
    with pytest.raises(CampaignWaitFailedError, match="reached failure status 'Active'"):
        sensor.execute({})


def _defer(sensor: CampaignStatusSensor) -> TaskDeferred:
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    return deferred.value


def test_deferred_the_trigger_fires_and_execute_complete_returns_the_status(kore_sandbox):
    campaign_id = seed_active(kore_sandbox, 3.0)  # still Active at the first poke on a busy machine
    sensor = CampaignStatusSensor(task_id="wait", campaign_id=campaign_id, poke_interval=0.2, deferrable=True)
    deferral = _defer(sensor)
    event = asyncio.run(fire(deferral.trigger))
    assert getattr(sensor, deferral.method_name)({}, event) == "Completed"


def test_deferred_a_stopped_campaign_fails_the_task(kore_sandbox):
    campaign_id = seed_active(kore_sandbox, 60)
    sensor = CampaignStatusSensor(task_id="wait", campaign_id=campaign_id, poke_interval=0.2, deferrable=True)
    deferral = _defer(sensor)
    CampaignHook().stop_campaign(campaign_id)
    event = asyncio.run(fire(deferral.trigger))
    with pytest.raises(CampaignWaitFailedError, match="'Stopped'"):
        sensor.execute_complete({}, event)
