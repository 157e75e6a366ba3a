"""Kore acted, but the answer never came back: each operator settles it, and sends nothing twice.

The one request under test meets a 1 s latency spike in the sandbox while the hook's read
timeout is 0.5 s: the hook gives up, and Kore acts half a second later. This is the ambiguity
that dropped connections (refused before Kore acts, in the sandbox) cannot show. A create or
play must then be settled by reading (a name look-up, a status read), never sent again; a stop
or delete may be sent again, harmlessly.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import ApiRequest, RetryPolicy
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.campaign import (
    CreateSmsCampaignOperator,
    DeleteCampaignOperator,
    StartCampaignOperator,
    StopCampaignOperator,
)
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.run_dag import request_kind
from airflow_campaign_provider.sandbox.seed import sample_create_body
from tests.operators.conftest import valid_args

from .harness import FakeTaskInstance, settled_requests, task_context, use_hook_settings

SPIKE_SECONDS = 1.0
READ_TIMEOUT = 0.5


@pytest.fixture
def lose_answer(
    kore_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    sandbox_request_kind: Callable[[ApiRequest], str],
) -> Callable[[str], list[str]]:
    """``lose_answer(kind)``: the first request of that kind (create, play, stop, delete) is held
    by the sandbox past the hook's read timeout, then acted on; returns the requests it held."""
    use_hook_settings(
        monkeypatch,
        timeout=(2.0, READ_TIMEOUT),
        retry_policy=RetryPolicy(base_wait_seconds=0.05, max_wait_seconds=0.2),
    )
    monkeypatch.setattr(clock, "sleep", lambda seconds: time.sleep(seconds * 0.3))
    send = CampaignHook._send
    held: list[str] = []

    def arm(kind: str) -> list[str]:
        def holding_send(hook: CampaignHook, request: ApiRequest) -> Any:
            if held or sandbox_request_kind(request) != kind:
                return send(hook, request)
            held.append(request.description)
            kore_sandbox.admin.set_faults(spike_rate=1.0, spike_seconds=SPIKE_SECONDS)
            try:
                return send(hook, request)
            finally:
                kore_sandbox.admin.clear_faults()

        monkeypatch.setattr(CampaignHook, "_send", holding_send)
        return held

    return arm


def kore_requests(sandbox: SandboxServer) -> Counter[str]:
    """How many requests of each kind Kore received, once none is in flight any more."""
    return Counter(request_kind(r) for r in settled_requests(sandbox.admin, timeout=SPIKE_SECONDS + 10))


def test_a_create_whose_answer_was_lost_is_found_by_name_not_sent_again(
    kore_sandbox: SandboxServer, lose_answer: Callable[[str], list[str]]
) -> None:
    held = lose_answer("create")
    ti = FakeTaskInstance()
    operator = CreateSmsCampaignOperator(
        task_id="create", **valid_args(name="Lost answer", poll_interval=0.1)
    )
    campaign_id = operator.execute(task_context(ti))

    assert len(held) == 1
    assert kore_requests(kore_sandbox)["create"] == 1
    campaigns = kore_sandbox.admin.campaigns()["campaigns"]
    assert [(c["id"], c["name"]) for c in campaigns] == [(campaign_id, "Lost answer")]
    assert ti.xcoms == {"campaign_id": campaign_id}


def test_a_play_whose_answer_was_lost_is_settled_by_its_status_not_sent_again(
    kore_sandbox: SandboxServer, lose_answer: Callable[[str], list[str]]
) -> None:
    admin = kore_sandbox.admin
    admin.update_config(send_interval_seconds=2.0)  # still Active when the status settles it
    campaign_id = admin.seed_campaign("Ready")
    held = lose_answer("play")
    assert StartCampaignOperator(task_id="start", campaign_id=campaign_id).execute({}) == "Active"

    assert len(held) == 1
    assert kore_requests(kore_sandbox)["play"] == 1
    phones = [m["phone"] for m in admin.messages(campaign_id)]
    assert len(phones) == len(set(phones))


def test_a_stop_whose_answer_was_lost_is_sent_again_harmlessly(
    kore_sandbox: SandboxServer, lose_answer: Callable[[str], list[str]]
) -> None:
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Active", complete_in_seconds=60)
    held = lose_answer("stop")
    assert StopCampaignOperator(task_id="stop", campaign_id=campaign_id).execute({}) == "Stopped"

    assert len(held) == 1
    # One held, and one resend once the hook gave up on it (an idempotent stop is retried).
    assert kore_requests(kore_sandbox)["stop"] == 2
    assert [c["status"] for c in admin.campaigns()["campaigns"]] == ["Stopped"]


def test_a_delete_whose_answer_was_lost_is_sent_again_harmlessly(
    kore_sandbox: SandboxServer, lose_answer: Callable[[str], list[str]]
) -> None:
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Ready", fields={"name": sample_create_body()["name"]})
    held = lose_answer("delete")
    summary = DeleteCampaignOperator(task_id="delete", campaign_id=campaign_id).execute({})

    assert len(held) == 1
    assert summary["campaign_id"] == campaign_id
    assert kore_requests(kore_sandbox)["delete"] == 2  # the held one and one resend
    assert admin.campaigns()["liveCount"] == 0
    assert admin.campaigns()["deletedCount"] == 1
