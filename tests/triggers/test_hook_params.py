"""A deferred wait carries its task's hook settings (``hook_params``) into the triggerer.

The asynchronous tests run on the virtual clock: back-off and deadlines cost no wall time."""

from __future__ import annotations

import importlib

import httpx
import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_campaign_provider._compat import PokeReturnValue
from airflow_campaign_provider.exceptions import CampaignArgumentsError
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor
from airflow_campaign_provider.triggers.campaign import CampaignStatusTrigger
from tests.hooks.conftest import BASE

from .conftest import fire, status_answer

pytestmark = pytest.mark.virtual_clock

CAMPAIGN_ID = "cd-0b5a3a6e-0000-4000-8000-00000000aa01"
STATUS = f"{BASE}/{CAMPAIGN_ID}/status"
#: The task's own policy: two attempts, where the registry's default here makes three.
TASK_POLICY = {"max_attempts": 2, "base_wait_seconds": 0.01, "max_wait_seconds": 0.02}


def deferred_trigger(monkeypatch: pytest.MonkeyPatch, **sensor_arguments: object) -> CampaignStatusTrigger:
    """Defer a CampaignStatusSensor whose first poke finds it not done, and rebuild its trigger
    from its serialized form, as the triggerer does."""
    sensor = CampaignStatusSensor(
        task_id="wait", campaign_id=CAMPAIGN_ID, deferrable=True, poke_interval=5, **sensor_arguments
    )
    monkeypatch.setattr(sensor, "poke", lambda context: PokeReturnValue(False))
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})  # type: ignore[arg-type]
    path, kwargs = deferred.value.trigger.serialize()
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)(**kwargs)  # type: ignore[no-any-return]


async def test_a_deferred_sensor_retries_in_the_triggerer_by_its_tasks_policy(
    registry, kore, backoffs, monkeypatch
):
    route = kore.post(STATUS).mock(return_value=httpx.Response(503, text="down"))
    rebuilt = deferred_trigger(monkeypatch, hook_params={"retry_policy": TASK_POLICY, "timeout": 7})
    assert rebuilt.hook_params["retry_policy"]["max_attempts"] == 2
    assert rebuilt.hook_params["timeout"] == [7.0, 7.0]

    event = await fire(rebuilt)

    assert event["status"] == "error"
    assert route.call_count == 2  # the task's policy, not the registry's 3 nor the default 6
    assert registry.options.retry_policy.max_attempts == 3


async def test_waits_with_other_hook_settings_poll_apart_but_share_the_budget(registry, kore, backoffs):
    kore.post(STATUS).mock(return_value=status_answer(CAMPAIGN_ID, "Completed"))
    plain = CampaignStatusTrigger(CAMPAIGN_ID, ["Completed"], poll_interval=0.05)
    tuned = CampaignStatusTrigger(
        CAMPAIGN_ID, ["Completed"], poll_interval=0.05, hook_params={"retry_policy": TASK_POLICY}
    )
    assert (await fire(plain))["status"] == "success"
    assert (await fire(tuned))["status"] == "success"
    assert "hook_params" not in plain.serialize()[1]  # a task without settings serializes as before
    assert len(registry.budgets()) == 1


def test_bad_hook_params_are_refused_when_the_dag_is_parsed():
    with pytest.raises(CampaignArgumentsError, match=r"hook_params\.retry_policy\.max_attempts"):
        CampaignStatusSensor(
            task_id="wait", campaign_id=CAMPAIGN_ID, hook_params={"retry_policy": {"max_attempts": "many"}}
        )
    with pytest.raises(CampaignArgumentsError, match=r"hook_params\.max_attempt"):
        CampaignStatusSensor(task_id="wait", campaign_id=CAMPAIGN_ID, hook_params={"max_attempt": 3})
