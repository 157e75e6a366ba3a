"""CreateVoiceCampaignOperator: every documented rule named before any call, and exactly once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_campaign_provider.exceptions import (
    CampaignConflictError,
    CampaignOutcomeUnknownError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.voice import CreateVoiceCampaignOperator
from tests.reliability.harness import FakeTaskInstance, task_context

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox import SandboxServer

VOICE_ARGS: dict[str, Any] = {
    "name": "Payment reminder",
    "description": "Reminds customers of a payment due this week.",
    "contact_lists": ["CL Only 2020 Dec 4"],
    "dnc_list": "DNC CL Dec 4",
    "caller_id": "+14155550100",
    "calling_hours": {
        "frequency": "WEEKLY",
        "timezone": "America/New_York",
        "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}],
    },
    "dialing_mode": "Agentless",
    "experience_flow_name": "Payment Reminder Flow",
    "poll_interval": 0.02,
}


def create(**overrides: Any) -> CreateVoiceCampaignOperator:
    return CreateVoiceCampaignOperator(task_id="create", **{**VOICE_ARGS, **overrides})


def creates(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return [
        r
        for r in sandbox.admin.requests()
        if r["method"] == "POST" and r["path"].endswith("/campaign") and "campaignType=voice" in r["query"]
    ]


def test_every_broken_rule_is_named_by_its_argument() -> None:
    with pytest.raises(InvalidCampaignArgumentError) as caught:
        create(
            dialing_mode="Preview",
            experience_flow_name=None,
            max_attempts_per_record=0,
            default_retry_period=1441,
            max_ring_time=4,
            caller_id="555-0100",
            name="x" * 49,
        )
    fields = caught.value.fields  # type: ignore[attr-defined]
    assert set(fields) >= {
        "name",
        "caller_id",
        "max_attempts_per_record",
        "default_retry_period",
        "max_ring_time",
    }


def test_the_fields_of_the_dialing_mode_are_required() -> None:
    with pytest.raises(
        InvalidCampaignArgumentError, match="queue_name: is required when dialingMode is Preview"
    ):
        create(dialing_mode="Preview", experience_flow_name=None, max_skips=1)
    with pytest.raises(InvalidCampaignArgumentError, match="experience_flow_name: is required"):
        create(experience_flow_name=None)
    with pytest.raises(InvalidCampaignArgumentError, match="max_skips: does not apply"):
        create(dialing_mode="Progressive", experience_flow_name=None, queue_name="Q", max_skips=2)


def test_templated_arguments_are_checked_after_rendering() -> None:
    operator = create(max_ring_time="{{ params.ring }}", name="Reminder {{ ds }}")
    operator.max_ring_time = 500  # what a rendering could give
    with pytest.raises(InvalidCampaignArgumentError, match="max_ring_time"):
        operator.execute(task_context())


def test_a_retried_create_reuses_its_campaign(kore_sandbox: SandboxServer) -> None:
    ti = FakeTaskInstance()
    first = create().execute(task_context(ti))
    again = create().execute(task_context(FakeTaskInstance(try_number=2)))

    assert again == first == ti.xcoms["campaign_id"]
    assert len(creates(kore_sandbox)) == 1
    assert CampaignHook().get_campaign_status(first) == "Ready"
    with pytest.raises(CampaignConflictError, match="priority: asked '3', found '5'"):
        create(priority=3).execute(task_context())
    assert len(creates(kore_sandbox)) == 1


def test_an_unanswered_create_is_settled_by_name_not_sent_again(
    kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_create = CampaignHook.create_voice_campaign

    def lost_answer(hook: CampaignHook, payload: Any) -> dict[str, Any]:
        real_create(hook, payload)  # Kore acts on it ...
        raise CampaignOutcomeUnknownError(
            "read timed out", method="POST", path="/campaign", request_sent=True
        )

    monkeypatch.setattr(CampaignHook, "create_voice_campaign", lost_answer)
    campaign_id = create().execute(task_context())

    assert len(creates(kore_sandbox)) == 1
    assert [c["id"] for c in kore_sandbox.admin.campaigns()["campaigns"]] == [campaign_id]
