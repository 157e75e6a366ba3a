"""Task retries after a fault: the retry finishes the work the failed try began, and sends nothing.

Airflow runs a failed task again from ``execute``. For a start that waits for completion, the
failed try may already have played the campaign; the retry must then neither play it again nor
fail because the campaign, started by that earlier try, has meanwhile completed.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, TaskDeferred

from airflow_campaign_provider.api import RetryPolicy
from airflow_campaign_provider.operators.campaign import CampaignNotStartableError
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.triggers.campaign import CampaignWaitError
from airflow_campaign_provider.triggers.poller import PollerOptions

from .harness import FakeTaskInstance, Triggerer, deferred_start, run_task, running_triggerer, task_context

#: The triggerer gives up after two failed reads of a status, quickly.
IMPATIENT = PollerOptions(
    budget_window_seconds=1.0,
    retry_policy=RetryPolicy(max_attempts=2, base_wait_seconds=0.01, max_wait_seconds=0.02),
)


def plays(server: SandboxServer, campaign_id: str) -> list[int | None]:
    """The answers Kore gave to every play of the campaign."""
    return [
        r["status"]
        for r in server.admin.requests()
        if r["method"] == "POST" and r["path"].endswith(f"/{campaign_id}") and "trigger=play" in r["query"]
    ]


def wait_until(server: SandboxServer, campaign_id: str, status: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(
            c["id"] == campaign_id and c["status"] == status for c in server.admin.campaigns()["campaigns"]
        ):
            return
        time.sleep(0.05)
    raise AssertionError(f"campaign {campaign_id} did not become {status} within {timeout} s")


@pytest.fixture
def triggerer() -> Any:
    with running_triggerer(IMPATIENT) as running:
        yield running


def test_a_start_retried_after_its_wait_broke_succeeds_once_the_campaign_completed(
    kore_sandbox: SandboxServer, triggerer: Triggerer
) -> None:
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Ready")
    admin.update_config(send_interval_seconds=0.2)

    # Try 1 plays the campaign and defers; Kore then fails every read until the trigger gives up.
    context = task_context(FakeTaskInstance(try_number=1))
    with pytest.raises(TaskDeferred) as deferred:
        deferred_start(campaign_id).execute(context)
    admin.set_faults(error_rate=1.0)
    event = triggerer.run(deferred.value.trigger, timeout=30)
    admin.clear_faults()
    assert event["status"] == "error"
    with pytest.raises(CampaignWaitError, match="HTTP 503"):
        deferred_start(campaign_id).resume_execution(deferred.value.method_name, {"event": event}, context)
    wait_until(kore_sandbox, campaign_id, "Completed")

    # Try 2 (Airflow retries the task): the campaign this task started has run; nothing is sent.
    retry = task_context(FakeTaskInstance(try_number=2))
    assert deferred_start(campaign_id).execute(retry) == "Completed"
    assert plays(kore_sandbox, campaign_id) == [200]
    assert len(admin.messages(campaign_id)) == len({m["phone"] for m in admin.messages(campaign_id)}) > 0


@pytest.mark.parametrize("status", ["Completed", "Stopped"])
def test_a_campaign_that_had_run_before_the_first_try_is_refused_for_good(
    kore_sandbox: SandboxServer, triggerer: Triggerer, status: str
) -> None:
    """Refused on the first try without retries: a later try must not take it for its own."""
    campaign_id = kore_sandbox.admin.seed_campaign(status)
    tries: list[BaseException] = []
    with pytest.raises(CampaignNotStartableError, match=f"is {status}, not Ready") as refused:
        run_task(
            lambda: deferred_start(campaign_id),
            task_context(),
            tries=4,
            triggerer=triggerer,
            on_retry=tries.append,
        )
    assert isinstance(refused.value, AirflowFailException)
    assert tries == []
    assert plays(kore_sandbox, campaign_id) == []


def test_a_preparing_campaign_is_refused_but_retried(
    kore_sandbox: SandboxServer, triggerer: Triggerer
) -> None:
    """Preparing becomes Ready on its own: the refusal is one Airflow retries, and the retry starts it."""
    campaign_id = kore_sandbox.admin.seed_campaign("Preparing", ready_in_seconds=2.0)
    tries: list[BaseException] = []

    def retry_delay(error: BaseException) -> None:  # Airflow's, long enough for it to get Ready
        tries.append(error)
        wait_until(kore_sandbox, campaign_id, "Ready")

    result = run_task(
        lambda: deferred_start(campaign_id),
        task_context(),
        tries=2,
        triggerer=triggerer,
        on_retry=retry_delay,
    )
    assert result == "Completed"
    assert [type(error) for error in tries] == [CampaignNotStartableError]
    assert plays(kore_sandbox, campaign_id) == [200]
