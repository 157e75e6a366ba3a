"""CreateSmsCampaignOperator with the hook mocked: exactly-once creation, reuse, waiting for Ready."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
import responses
from airflow.sdk import DAG

from airflow_campaign_provider.exceptions import (
    CampaignArgumentsError,
    CampaignError,
    CampaignOutcomeUnknownError,
    CampaignServerError,
    CampaignValidationError,
    CampaignWaitTimeoutError,
)
from airflow_campaign_provider.models import common as rules
from airflow_campaign_provider.models.settings import HookParams
from airflow_campaign_provider.operators.campaign import CampaignConflictError, CreateSmsCampaignOperator
from airflow_campaign_provider.payload import SmsCampaignSpec
from tests.hooks.conftest import ACCOUNT_ID, BASE

from .conftest import FakeClock, valid_args

CAMPAIGN_ID = "cd-e7110489-a30a-5d1e-80ee-f246cc800000"
NAME = valid_args()["name"]


def stored(status: str = "Ready", **changes: Any) -> dict[str, Any]:
    """The campaign Kore.ai holds for the valid arguments."""
    body = SmsCampaignSpec(**valid_args()).to_body()
    return {"_id": CAMPAIGN_ID, "lname": NAME.lower(), "status": status, **body, **changes}


def summary(status: str = "Ready") -> dict[str, Any]:
    return {"_id": CAMPAIGN_ID, "name": NAME, "lname": NAME.lower(), "status": status}


def unknown_outcome() -> CampaignOutcomeUnknownError:
    return CampaignOutcomeUnknownError("ReadTimeout", method="POST", path="/campaign", request_sent=True)


def make(**overrides: Any) -> CreateSmsCampaignOperator:
    return CreateSmsCampaignOperator(task_id="create", **valid_args(**overrides))


def test_creates_pushes_the_id_at_once_and_waits_for_ready(
    hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    hook.find_campaign_by_name.return_value = None
    hook.create_sms_campaign.return_value = stored("Preparing")
    statuses = iter(["Preparing", "Preparing", "Ready"])

    def status(campaign_id: str) -> str:
        context["ti"].xcom_push.assert_called_once_with(key="campaign_id", value=CAMPAIGN_ID)
        return next(statuses)

    hook.get_campaign_status.side_effect = status

    assert make(poll_interval=2).execute(context) == CAMPAIGN_ID
    hook.find_campaign_by_name.assert_called_once_with(NAME, "sms", created_after=None)
    hook.create_sms_campaign.assert_called_once_with(SmsCampaignSpec(**valid_args()).to_body())
    assert hook.get_campaign_status.call_count == 3
    assert clock.sleeps == [2, 2]


def test_without_wait_for_ready_it_returns_while_preparing(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.find_campaign_by_name.return_value = None
    hook.create_sms_campaign.return_value = stored("Preparing")
    assert make(wait_for_ready=False).execute(context) == CAMPAIGN_ID
    hook.get_campaign_status.assert_not_called()


def test_waiting_for_ready_is_bounded(
    hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    hook.find_campaign_by_name.return_value = None
    hook.create_sms_campaign.return_value = stored("Preparing")
    hook.get_campaign_status.return_value = "Preparing"
    with pytest.raises(
        CampaignWaitTimeoutError, match=r"did not reach \['Ready', .*its last status was 'Preparing'"
    ):
        make(ready_timeout=30, poll_interval=7).execute(context)
    assert sum(clock.sleeps) == 30
    context["ti"].xcom_push.assert_called_once_with(key="campaign_id", value=CAMPAIGN_ID)


def test_a_matching_campaign_is_reused_not_created_again(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.find_campaign_by_name.return_value = summary("Preparing")
    hook.get_campaign.return_value = stored("Preparing")
    hook.get_campaign_status.return_value = "Ready"

    assert make(poll_interval=0.1).execute(context) == CAMPAIGN_ID
    hook.create_sms_campaign.assert_not_called()
    hook.get_campaign.assert_called_once_with(CAMPAIGN_ID)
    context["ti"].xcom_push.assert_called_once_with(key="campaign_id", value=CAMPAIGN_ID)


def test_a_same_named_campaign_that_differs_is_not_reused(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.find_campaign_by_name.return_value = summary()
    hook.get_campaign.return_value = stored(priority="2", description="Another team's campaign")
    with pytest.raises(CampaignConflictError) as raised:
        make().execute(context)
    message = str(raised.value)
    assert (
        "description: asked 'Alerts customers about pending bills.', found \"Another team's campaign\""
        in message
    )
    assert "priority: asked '5', found '2'" in message
    hook.create_sms_campaign.assert_not_called()
    context["ti"].xcom_push.assert_not_called()


def test_if_exists_fail_refuses_any_same_named_campaign(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.find_campaign_by_name.return_value = summary()
    with pytest.raises(CampaignConflictError, match="if_exists='fail'"):
        make(if_exists="fail").execute(context)
    hook.create_sms_campaign.assert_not_called()


@pytest.mark.parametrize("error", [unknown_outcome(), CampaignServerError("Bad Gateway", status_code=502)])
def test_an_ambiguous_create_that_took_effect_is_found_by_name(
    error: Exception, hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    hook.find_campaign_by_name.side_effect = [None, summary()]
    hook.create_sms_campaign.side_effect = error
    hook.get_campaign.return_value = stored()

    assert make(if_exists="fail").execute(context) == CAMPAIGN_ID  # its own campaign, even under "fail"
    hook.create_sms_campaign.assert_called_once()
    assert clock.sleeps == []


def test_an_ambiguous_create_is_resent_only_once_the_name_is_surely_absent(
    hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    calls: list[str] = []
    hook.find_campaign_by_name.side_effect = lambda name, campaign_type, **_: calls.append("lookup")
    hook.create_sms_campaign.side_effect = lambda body: (
        calls.append("create")
        or (stored() if calls.count("create") == 2 else (_ for _ in ()).throw(unknown_outcome()))
    )
    assert make().execute(context) == CAMPAIGN_ID
    # one look-up before creating; two spaced look-ups after the unanswered create; then the resend
    assert calls == ["lookup", "create", "lookup", "lookup", "create"]
    assert clock.sleeps == [HookParams().ambiguity_recheck_seconds]


def test_creating_gives_up_after_a_bounded_number_of_ambiguous_attempts(
    hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    hook.find_campaign_by_name.return_value = None
    hook.create_sms_campaign.side_effect = CampaignServerError("Service Unavailable", status_code=503)
    with pytest.raises(CampaignError, match=r"Gave up creating campaign .* after 3 attempts") as raised:
        make().execute(context)
    assert isinstance(raised.value.__cause__, CampaignServerError)
    assert hook.create_sms_campaign.call_count == HookParams().max_attempts
    assert hook.find_campaign_by_name.call_count == 1 + 3 * HookParams().ambiguity_lookups
    context["ti"].xcom_push.assert_not_called()


def test_a_name_taken_meanwhile_is_adopted_when_it_matches(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.find_campaign_by_name.side_effect = [None, summary()]
    hook.create_sms_campaign.side_effect = CampaignValidationError("name: already exists", status_code=412)
    hook.get_campaign.return_value = stored()
    assert make().execute(context) == CAMPAIGN_ID


def test_a_refused_create_is_reraised_when_no_campaign_has_the_name(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.find_campaign_by_name.return_value = None
    refused = CampaignValidationError("contactLists[0]: contact list 'X' does not exist", status_code=412)
    hook.create_sms_campaign.side_effect = refused
    with pytest.raises(CampaignValidationError) as raised:
        make().execute(context)
    assert raised.value is refused


def test_templated_arguments_are_checked_after_rendering() -> None:
    """Values known only after rendering are not judged at parse time, and are judged after it."""
    with DAG("templated", schedule=None, params={"priority": 9, "zone": "Mars/Olympus"}):
        operator = CreateSmsCampaignOperator(
            task_id="create",
            **valid_args(
                name="Billing {{ ds }}",
                priority="{{ params.priority }}",
                calling_hours={**valid_args()["calling_hours"], "timezone": "{{ params.zone }}"},
            ),
        )
    operator.render_template_fields({"params": {"priority": 9, "zone": "Mars/Olympus"}, "ds": "2025-12-08"})
    assert operator.name == "Billing 2025-12-08"
    with pytest.raises(CampaignArgumentsError) as raised:
        operator.execute({"ti": mock.MagicMock()})
    assert raised.value.fields == ("calling_hours.timezone", "priority")


def test_a_literal_argument_is_still_checked_next_to_templated_ones() -> None:
    with pytest.raises(CampaignArgumentsError) as raised:
        make(name="{{ params.name }}", caller_id="not a number")
    assert raised.value.fields == ("caller_id",)


def test_mapped_arguments_are_checked_when_the_task_is_expanded() -> None:
    """``partial`` cannot judge a mapped name; each expanded task judges its own."""
    args = valid_args()
    del args["name"]
    with DAG("mapped", schedule=None):
        mapped = CreateSmsCampaignOperator.partial(task_id="create", **args).expand(name=["A", "n" * 49])
    assert mapped.unmap({"name": "A"}).name == "A"
    with pytest.raises(CampaignArgumentsError) as raised:
        mapped.unmap({"name": "n" * 49})
    assert raised.value.fields == ("name",)


def test_the_whole_chain_over_http(kore_connection: None, context: dict[str, Any]) -> None:
    """The operator through the real hook: look-up, the exact create body, the look-up for a
    concurrent twin (newest first), then the status."""
    with responses.RequestsMock() as rsps:
        listing = rsps.post(
            f"{BASE}/getAllCampaignDetails",
            json={"status": "success", "data": {"results": [], "hasMore": False, "totalPages": 0}},
        )
        create = rsps.post(BASE, json=stored("Preparing"))
        status = rsps.post(
            f"{BASE}/{CAMPAIGN_ID}/status",
            json={"status": "success", "data": {"id": CAMPAIGN_ID, "status": "Ready", "name": NAME}},
        )
        assert make(poll_interval=0.01).execute(context) == CAMPAIGN_ID
    assert create.call_count == status.call_count == 1
    assert listing.call_count == 2
    assert json.loads(listing.calls[1].request.body)["sortBy"] == {"createdAt": "desc"}
    sent = json.loads(create.calls[0].request.body)
    assert sent["priority"] == "5"
    assert sent["message"] == {
        "template_name": "Welcome",
        "message": rules.encode_message(valid_args()["message"]),
    }
    assert sent["dncLists"] == {"name": "testdnc"}
    assert f"accountId={ACCOUNT_ID}" in create.calls[0].request.url
    assert "campaignType=sms" in create.calls[0].request.url


def test_stream_id_overrides_the_connections(kore_connection: None, context: dict[str, Any]) -> None:
    other = "st-11111111-2222-3333-4444-555555555555"
    base = BASE.rsplit("/", 2)[0] + f"/{other}/campaign"
    with responses.RequestsMock() as rsps:
        rsps.post(f"{base}/getAllCampaignDetails", json={"status": "success", "data": {"results": []}})
        create = rsps.post(base, json=stored("Ready"))
        make(stream_id=other).execute(context)
    assert create.calls[0].request.headers["iid"] == other
