"""The operators against the sandbox server: a real HTTP round trip for every call.

What the sandbox records (its request log and the messages it pretended to send) proves the
idempotency claims: one campaign per name, one play per campaign, one SMS per contact.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_campaign_provider.api import ApiRequest
from airflow_campaign_provider.exceptions import (
    CampaignOutcomeUnknownError,
    CampaignValidationError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.models.settings import HookParams
from airflow_campaign_provider.operators.campaign import (
    CampaignConflictError,
    CampaignNotStartableError,
    CreateSmsCampaignOperator,
    DeleteCampaignOperator,
    StartCampaignOperator,
    StopCampaignOperator,
)
from airflow_campaign_provider.sandbox import SandboxServer

from .conftest import valid_args

CONTACTS = ["+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105"]
DNC = {"+14155550103"}  # the default seed's "testdnc" list
FAST = {"poll_interval": 0.02}


def create(name: str = "Spring sale", **overrides: Any) -> CreateSmsCampaignOperator:
    return CreateSmsCampaignOperator(task_id="create", **valid_args(name=name, **FAST, **overrides))


def start(campaign_id: str, **kwargs: Any) -> StartCampaignOperator:
    return StartCampaignOperator(
        task_id="start", campaign_id=campaign_id, **{**FAST, "timeout": 30, **kwargs}
    )


def kore_calls(sandbox: SandboxServer, method: str, suffix: str = "", **query: str) -> list[dict[str, Any]]:
    """Logged Kore requests with this method whose path ends with ``suffix`` and whose query has ``query``."""
    return [
        r
        for r in sandbox.admin.requests()
        if r["method"] == method
        and r["path"].endswith(f"/campaign{suffix}")
        and query.items() <= dict(parse_qsl(r["query"])).items()
    ]


def creates(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return kore_calls(sandbox, "POST", "")


def test_a_whole_lifecycle(kore_sandbox: SandboxServer, context: dict[str, Any]) -> None:
    campaign_id = create().execute(context)
    assert kore_sandbox.admin.campaigns()["campaigns"][0]["status"] == "Ready"

    assert start(campaign_id, wait_for_completion=True).execute(context) == "Completed"
    sent = [m["phone"] for m in kore_sandbox.admin.messages(campaign_id)]
    assert sorted(sent) == sorted(set(CONTACTS) - DNC)  # everyone once, the DNC number never

    assert StopCampaignOperator(task_id="stop", campaign_id=campaign_id).execute(context) == "Completed"
    deleted = DeleteCampaignOperator(task_id="delete", campaign_id=campaign_id).execute(context)
    assert deleted == {
        "campaign_id": campaign_id,
        "campaign_type": "sms",
        "name": "Spring sale",
        "status": "Completed",
        "deleted": True,
        "message": "Campaign Spring sale deleted successfully",
    }
    assert kore_sandbox.admin.campaigns()["liveCount"] == 0
    again = DeleteCampaignOperator(task_id="delete", campaign_id=campaign_id).execute(context)
    assert again["deleted"] is False


async def test_a_deferred_start_resumes_with_the_triggers_event(
    kore_sandbox: SandboxServer, context: dict[str, Any]
) -> None:
    """Start, defer, let the trigger wait on the sandbox, then resume with its event."""
    campaign_id = create().execute(context)
    kore_sandbox.admin.update_config(send_interval_seconds=0.05)
    operator = start(campaign_id, wait_for_completion=True, deferrable=True, poll_interval=0.05)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    events = [event async for event in deferred.value.trigger.run()]
    assert len(events) == 1
    assert operator.execute_complete(context, events[0].payload) == "Completed"
    assert len(kore_sandbox.admin.messages(campaign_id)) == len(set(CONTACTS) - DNC)


def try_context(try_number: int) -> dict[str, Any]:
    """The context of one try of a task: Airflow counts tries from 1."""
    return {"ti": mock.MagicMock(name="ti", try_number=try_number)}


def test_a_retried_task_reuses_its_campaign_and_each_contact_gets_one_sms(
    kore_sandbox: SandboxServer,
) -> None:
    kore_sandbox.admin.update_config(send_interval_seconds=0.1)
    first = create().execute(try_context(1))
    retried = create().execute(try_context(2))  # a new try of the same task: a fresh operator
    assert retried == first
    assert len(creates(kore_sandbox)) == 1
    assert kore_sandbox.admin.campaigns()["liveCount"] == 1

    assert start(first).execute(try_context(1)) == "Active"
    # The retried start finds the campaign still sending or already done, whichever the machine's
    # speed gives: either way it is not played again, and waits for (or reports) its completion.
    assert start(first, wait_for_completion=True).execute(try_context(2)) == "Completed"
    assert len(kore_calls(kore_sandbox, "POST", f"/{first}", trigger="play")) == 1
    phones = Counter(m["phone"] for m in kore_sandbox.admin.messages())
    assert phones == dict.fromkeys(set(CONTACTS) - DNC, 1)


def test_a_dropped_create_is_settled_by_name_before_it_is_sent_again(
    kore_sandbox: SandboxServer, context: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox drops the connection of the first create: no answer, and no campaign."""
    real_create = CampaignHook.create_sms_campaign
    attempts: list[int] = []

    def create_dropping_first(hook: CampaignHook, payload: Any) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) > 1:
            return real_create(hook, payload)
        kore_sandbox.admin.set_faults(drop_rate=1.0)
        try:
            return real_create(hook, payload)
        finally:
            kore_sandbox.admin.clear_faults()

    monkeypatch.setattr(CampaignHook, "create_sms_campaign", create_dropping_first)
    operator = create(hook_params={"ambiguity_recheck_seconds": 0.01})
    campaign_id = operator.execute(context)

    sent = creates(kore_sandbox)
    assert [r.get("fault") for r in sent] == ["drop", None]
    lookups = kore_calls(kore_sandbox, "POST", "/getAllCampaignDetails")
    # before, the spaced look-ups after the drop, and one after the resend (a concurrent twin?)
    assert len(lookups) == 1 + HookParams().ambiguity_lookups + 1
    assert [c["id"] for c in kore_sandbox.admin.campaigns()["campaigns"]] == [campaign_id]


def test_a_create_whose_answer_was_lost_is_found_by_name_not_sent_again(
    kore_sandbox: SandboxServer, context: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kore created the campaign but the answer never arrived."""
    real_create = CampaignHook.create_sms_campaign

    def create_then_lose_answer(hook: CampaignHook, payload: Any) -> dict[str, Any]:
        real_create(hook, payload)
        raise CampaignOutcomeUnknownError(
            "read timed out", method="POST", path="/campaign", request_sent=True
        )

    monkeypatch.setattr(CampaignHook, "create_sms_campaign", create_then_lose_answer)
    campaign_id = create().execute(context)
    assert len(creates(kore_sandbox)) == 1
    assert [c["id"] for c in kore_sandbox.admin.campaigns()["campaigns"]] == [campaign_id]


def test_a_same_named_campaign_that_differs_is_reported_not_reused(
    kore_sandbox: SandboxServer, context: dict[str, Any]
) -> None:
    create().execute(context)
    with pytest.raises(CampaignConflictError, match=r"differs .*\n  - description: asked 'Other purpose'"):
        create(description="Other purpose").execute(context)
    with pytest.raises(CampaignConflictError, match="if_exists='fail'"):
        create(if_exists="fail").execute(context)
    assert len(creates(kore_sandbox)) == 1


def test_the_sandbox_enforces_what_the_operator_checks(
    kore_sandbox: SandboxServer, context: dict[str, Any]
) -> None:
    """A body the operator accepts but the account cannot serve is refused by Kore (here: the sandbox)."""
    with pytest.raises(
        CampaignValidationError, match=r"contactLists\[0\]: contact list 'No such list' does not exist"
    ) as refused:
        create(contact_lists=["No such list"]).execute(context)
    assert refused.value.status_code == 412
    assert kore_sandbox.admin.campaigns()["liveCount"] == 0


def test_a_preparing_campaign_is_not_started(kore_sandbox: SandboxServer, context: dict[str, Any]) -> None:
    kore_sandbox.admin.update_config(preparing_seconds=30)
    campaign_id = create(wait_for_ready=False).execute(context)
    with pytest.raises(CampaignNotStartableError, match="is Preparing, not Ready"):
        start(campaign_id).execute(context)
    assert kore_calls(kore_sandbox, "POST", f"/{campaign_id}", trigger="play") == []


def test_stop_is_idempotent(kore_sandbox: SandboxServer, context: dict[str, Any]) -> None:
    kore_sandbox.admin.update_config(send_interval_seconds=5)
    campaign_id = create().execute(context)
    start(campaign_id).execute(context)
    stop = StopCampaignOperator(task_id="stop", campaign_id=campaign_id)
    assert stop.execute(context) == "Stopped"
    assert stop.execute(context) == "Stopped"
    assert len(kore_calls(kore_sandbox, "POST", f"//trigger/{campaign_id}", trigger="stop")) == 1
    assert kore_sandbox.admin.messages(campaign_id) == []


def test_an_active_campaign_is_stopped_then_deleted(
    kore_sandbox: SandboxServer, context: dict[str, Any]
) -> None:
    kore_sandbox.admin.update_config(send_interval_seconds=5)
    campaign_id = create().execute(context)
    start(campaign_id).execute(context)
    summary = DeleteCampaignOperator(task_id="delete", campaign_id=campaign_id).execute(context)
    assert summary["status"] == "Stopped"
    writes = [
        (r["method"], dict(parse_qsl(r["query"])).get("trigger"))
        for r in kore_sandbox.admin.requests()
        if r["method"] != "GET"
    ]
    assert writes[-2:] == [("POST", "stop"), ("DELETE", None)]


def test_voice_campaigns_are_deleted_and_not_mistaken_for_missing_sms_ones(
    kore_sandbox: SandboxServer, context: dict[str, Any]
) -> None:
    voice_id = kore_sandbox.admin.seed_campaign("Ready", campaign_type="voice", fields={"name": "Renewals"})
    with pytest.raises(InvalidCampaignArgumentError, match=r"campaign_type: .* no sms campaign"):
        DeleteCampaignOperator(task_id="delete", campaign_id=voice_id).execute(context)
    deleted = DeleteCampaignOperator(task_id="delete", campaign_id=voice_id, campaign_type="voice").execute(
        context
    )
    assert deleted["deleted"] is True
    assert deleted["name"] == "Renewals"
    assert kore_sandbox.admin.campaigns()["liveCount"] == 0


def test_killing_a_start_stops_the_campaign_it_started(
    kore_sandbox: SandboxServer, context: dict[str, Any]
) -> None:
    kore_sandbox.admin.update_config(send_interval_seconds=5)
    campaign_id = create().execute(context)
    operator = start(campaign_id)
    operator.execute(context)
    operator.on_kill()
    assert kore_sandbox.admin.campaigns()["campaigns"][0]["status"] == "Stopped"


CANARY_SECRET = "canary-not-a-secret-5b1e0d"


def test_the_operators_never_log_the_secret(
    kore_sandbox: SandboxServer,
    context: dict[str, Any],
    minted: list[str],
    unredacted_logs: None,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The secret and every JWT minted are looked for in every log line (file descriptors and
    stdlib records at DEBUG, Airflow's redaction off), the return values and XCom; a canary
    logged on purpose shows that a leak would be seen."""
    caplog.set_level(logging.DEBUG)
    operator = create()
    operator.log.info("canary: secret=%s", CANARY_SECRET)
    campaign_id = operator.execute(context)
    assert start(campaign_id, wait_for_completion=True).execute(context) == "Completed"
    summary = DeleteCampaignOperator(task_id="delete", campaign_id=campaign_id).execute(context)

    out, err = capfd.readouterr()
    logged = "\n".join([out, err, caplog.text, *(record.getMessage() for record in caplog.records)])
    assert CANARY_SECRET in logged
    assert f"Deleted sms campaign {campaign_id}" in logged  # the operators' own lines were captured
    assert minted, "no token was minted: nothing was looked for"
    written = [logged, repr(summary), repr(context["ti"].mock_calls)]
    secrets = [kore_sandbox.config.client_secret, *minted, *(token.rsplit(".", 1)[1] for token in minted)]
    assert [secret[:12] for secret in secrets if any(secret in text for text in written)] == []
    context["ti"].xcom_push.assert_called_once_with(key="campaign_id", value=campaign_id)


@pytest.fixture
def on_first(
    monkeypatch: pytest.MonkeyPatch, sandbox_request_kind: Callable[[ApiRequest], str]
) -> Callable[..., None]:
    """``on_first(kind, before, after=None)``: ``before()`` runs just before the first request of
    that kind (create, play, stop…) leaves for Kore, ``after()`` once it is done; the request goes
    over real HTTP as usual."""
    send = CampaignHook._send

    def arm(kind: str, before: Callable[[], Any], after: Callable[[], Any] | None = None) -> None:
        pending = [kind]

        def sending(hook: CampaignHook, request: ApiRequest) -> Any:
            if not pending or sandbox_request_kind(request) != kind:
                return send(hook, request)
            pending.clear()
            before()
            try:
                return send(hook, request)
            finally:
                if after is not None:
                    after()

        monkeypatch.setattr(CampaignHook, "_send", sending)

    return arm


def test_an_unanswered_play_is_sent_again_while_the_campaign_stays_ready(
    kore_sandbox: SandboxServer, context: dict[str, Any], on_first: Callable[..., None]
) -> None:
    """The sandbox drops the first play before acting on it: the status settles that it did not
    start, so it is played once more, and every contact gets one SMS."""
    admin = kore_sandbox.admin
    campaign_id = create().execute(context)
    on_first("play", lambda: admin.set_faults(drop_rate=1.0), admin.clear_faults)
    operator = start(campaign_id, wait_for_completion=True, hook_params={"ambiguity_recheck_seconds": 0.01})
    assert operator.execute(context) == "Completed"

    plays = kore_calls(kore_sandbox, "POST", f"/{campaign_id}", trigger="play")
    assert [(play["fault"], play["status"]) for play in plays] == [("drop", None), (None, 200)]
    phones = Counter(m["phone"] for m in admin.messages(campaign_id))
    assert phones == dict.fromkeys(set(CONTACTS) - DNC, 1)


def test_a_name_taken_between_look_up_and_create_is_adopted_after_kores_412(
    kore_sandbox: SandboxServer, context: dict[str, Any], on_first: Callable[..., None]
) -> None:
    """A concurrent run creates the same campaign after this one looked the name up: Kore refuses
    the second create (412, name taken), and this run adopts the campaign that exists."""
    concurrent: list[str] = []
    on_first("create", lambda: concurrent.append(create().execute(try_context(1))))
    campaign_id = create().execute(context)

    assert [campaign_id] == concurrent
    assert [r["status"] for r in creates(kore_sandbox)] == [200, 412]
    assert [c["id"] for c in kore_sandbox.admin.campaigns()["campaigns"]] == [campaign_id]
    context["ti"].xcom_push.assert_called_once_with(key="campaign_id", value=campaign_id)


def test_a_stop_refused_because_the_campaign_just_completed_reports_completed(
    kore_sandbox: SandboxServer, context: dict[str, Any], on_first: Callable[..., None]
) -> None:
    """The status read still says Active (forced), the campaign has in fact completed: Kore
    refuses the stop (412), and the stop task reads the status again and succeeds."""
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Completed")
    admin.force_status(campaign_id, "Active")
    on_first("stop", lambda: admin.force_status(campaign_id, None))

    assert StopCampaignOperator(task_id="stop", campaign_id=campaign_id).execute(context) == "Completed"
    stops = kore_calls(kore_sandbox, "POST", f"//trigger/{campaign_id}", trigger="stop")
    assert [stop["status"] for stop in stops] == [412]
