"""CreateSmsTextCampaignOperator against the sandbox: simple text and an advanced flow, once each."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pytest

from airflow_campaign_provider.exceptions import InvalidCampaignArgumentError
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.sms_text import CreateSmsTextCampaignOperator
from tests.reliability.harness import task_context

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox import SandboxServer

ARGS: dict[str, Any] = {
    "name": "Flash sale",
    "description": "One plain text, no template.",
    "contact_lists": ["CL Only 2020 Dec 4"],
    "caller_id": "+14155550100",
    "calling_hours": {
        "frequency": "WEEKLY",
        "timezone": "UTC",
        "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}],
    },
    "poll_interval": 0.02,
}


def creates(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return [r for r in sandbox.admin.requests() if r["method"] == "POST" and r["path"].endswith("/campaign")]


def test_a_simple_text_campaign_is_created_once(kore_sandbox: SandboxServer) -> None:
    operator = CreateSmsTextCampaignOperator(task_id="t", message="Sale ends tonight!", **ARGS)

    first = operator.execute(task_context())
    again = operator.execute(task_context())

    assert first == again
    assert len(creates(kore_sandbox)) == 1
    (sent,) = creates(kore_sandbox)
    assert sent["body"]["format"] == "simple"
    assert "template_name" not in sent["body"]["message"]
    assert base64.b64decode(sent["body"]["message"]["message"]).decode() == "Sale ends tonight!"
    assert CampaignHook().get_campaign_status(first) == "Ready"


def test_an_advanced_campaign_follows_the_page_s_sample(kore_sandbox: SandboxServer) -> None:
    campaign_id = CreateSmsTextCampaignOperator(
        task_id="t", format="advanced", experience_flow_name="SMS Support Flow", **ARGS
    ).execute(task_context())

    (sent,) = creates(kore_sandbox)
    assert sent["body"]["format"] == "advanced"
    assert "message" not in sent["body"]
    assert sent["body"]["experienceFlowName"] == "SMS Support Flow"
    assert CampaignHook().get_campaign(campaign_id)["experienceFlow"].startswith("cf-")


@pytest.mark.parametrize(
    ("extra", "argument"),
    [
        ({}, "message"),
        ({"format": "advanced"}, "experience_flow_name"),
        ({"format": "fancy", "message": "x"}, "format"),
    ],
)
def test_what_a_format_needs_is_named_before_any_call(
    kore_sandbox: SandboxServer, extra: dict[str, Any], argument: str
) -> None:
    with pytest.raises(InvalidCampaignArgumentError, match=f"{argument}: "):
        CreateSmsTextCampaignOperator(task_id="t", **ARGS, **extra)
    assert kore_sandbox.admin.requests() == []
