"""Argument rules of CreateSmsCampaignOperator: every bad input refused by name before any HTTP call."""

from __future__ import annotations

import base64
from typing import Any

import pendulum
import pytest
import responses

from airflow_campaign_provider.exceptions import CampaignArgumentsError
from airflow_campaign_provider.models import common as rules
from airflow_campaign_provider.operators.campaign import CreateSmsCampaignOperator
from airflow_campaign_provider.payload import SmsCampaignSpec
from airflow_campaign_provider.sandbox import sample_create_body

from .conftest import VALID_ARGS, WELCOME, valid_args


def hours(**changes: Any) -> dict[str, Any]:
    """Valid calling hours with top-level keys changed (a value of ``...`` removes the key)."""
    result = {**valid_args()["calling_hours"], **changes}
    return {key: value for key, value in result.items() if value is not ...}


def day0(**changes: Any) -> dict[str, Any]:
    """Valid calling hours whose first block has ``changes``."""
    days = valid_args()["calling_hours"]["days"]
    days[0] = {**days[0], **changes}
    return hours(days=days)


BAD_INPUTS = [
    pytest.param({"name": ""}, "name", id="name-empty"),
    pytest.param({"name": "   "}, "name", id="name-blank"),
    pytest.param({"name": "x" * 49}, "name", id="name-49-chars"),
    pytest.param({"name": 123}, "name", id="name-not-string"),
    pytest.param({"name": " Spring"}, "name", id="name-padded"),
    pytest.param({"description": "d" * 257}, "description", id="description-257-chars"),
    pytest.param({"description": None}, "description", id="description-missing"),
    pytest.param({"description": "  "}, "description", id="description-blank"),
    pytest.param({"contact_lists": []}, "contact_lists", id="contact-lists-empty"),
    pytest.param({"contact_lists": "CL Only 2020 Dec 4"}, "contact_lists", id="contact-lists-a-string"),
    pytest.param({"contact_lists": ["CL Only 2020 Dec 4", ""]}, "contact_lists[1]", id="contact-list-blank"),
    pytest.param({"contact_lists": ["A", "A"]}, "contact_lists[1]", id="contact-list-repeated"),
    pytest.param({"contact_lists": [7]}, "contact_lists[0]", id="contact-list-not-string"),
    pytest.param({"template_name": ""}, "template_name", id="template-name-blank"),
    pytest.param({"message": ""}, "message", id="message-blank"),
    pytest.param({"message": "Hi \ud800"}, "message", id="message-lone-surrogate"),
    pytest.param({"caller_id": "9561612345"}, "caller_id", id="caller-id-no-plus"),
    pytest.param({"caller_id": "+0123456"}, "caller_id", id="caller-id-leading-zero"),
    pytest.param({"caller_id": "+1 415 555 0100"}, "caller_id", id="caller-id-spaces"),
    pytest.param({"caller_id": "+1234567890123456"}, "caller_id", id="caller-id-16-digits"),
    pytest.param({"caller_id": "12"}, "caller_id", id="caller-id-2-digit-short-code"),
    pytest.param({"caller_id": "123456789"}, "caller_id", id="caller-id-9-digit-short-code"),
    pytest.param({"caller_id": "ABCDEFGHIJKL"}, "caller_id", id="caller-id-sender-12-chars"),
    pytest.param({"caller_id": "Kore-Bank"}, "caller_id", id="caller-id-sender-punctuation"),
    pytest.param({"name": "Spring\x00"}, "name", id="name-nul"),
    pytest.param({"name": "Spring\nSale"}, "name", id="name-newline"),
    pytest.param({"contact_lists": ["CL\x1b[31m"]}, "contact_lists[0]", id="contact-list-escape"),
    pytest.param({"description": "Spring\x07"}, "description", id="description-bell"),
    pytest.param({"message": "Hi \x00 there"}, "message", id="message-nul"),
    pytest.param({"priority": 0}, "priority", id="priority-0"),
    pytest.param({"priority": 6}, "priority", id="priority-6"),
    pytest.param({"priority": True}, "priority", id="priority-bool"),
    pytest.param({"priority": "high"}, "priority", id="priority-word"),
    pytest.param({"priority": 2.5}, "priority", id="priority-float"),
    pytest.param({"format": "fancy"}, "format", id="format-unknown"),
    pytest.param({"format": "advanced"}, "format", id="format-bot-flow"),
    pytest.param({"dnc_list": ""}, "dnc_list", id="dnc-list-blank"),
    pytest.param({"calling_hours": "WEEKLY 9-6"}, "calling_hours", id="hours-not-mapping"),
    pytest.param({"calling_hours": hours(frequency=...)}, "calling_hours.frequency", id="frequency-missing"),
    pytest.param(
        {"calling_hours": hours(frequency="weekly")}, "calling_hours.frequency", id="frequency-lowercase"
    ),
    pytest.param(
        {"calling_hours": hours(timezone="Mars/Olympus")}, "calling_hours.timezone", id="tz-unknown"
    ),
    pytest.param(
        {"calling_hours": hours(timezone="India Standard Time")},
        "calling_hours.timezone",
        id="tz-windows-name",
    ),
    pytest.param({"calling_hours": hours(timezone=5.5)}, "calling_hours.timezone", id="tz-offset-number"),
    pytest.param({"calling_hours": hours(timeZone="UTC")}, "calling_hours.timeZone", id="hours-unknown-key"),
    pytest.param({"calling_hours": hours(days=[])}, "calling_hours.days", id="days-empty"),
    pytest.param({"calling_hours": hours(days="MO-FR")}, "calling_hours.days", id="days-a-string"),
    pytest.param({"calling_hours": hours(days=["MO"])}, "calling_hours.days[0]", id="day-block-not-mapping"),
    pytest.param({"calling_hours": day0(day="Monday")}, "calling_hours.days[0].day", id="day-full-name"),
    pytest.param({"calling_hours": day0(start="09:00")}, "calling_hours.days[0].start", id="start-24h"),
    pytest.param({"calling_hours": day0(start="9:00AM")}, "calling_hours.days[0].start", id="start-no-space"),
    pytest.param(
        {"calling_hours": day0(start="13:00 PM")}, "calling_hours.days[0].start", id="start-hour-13"
    ),
    pytest.param({"calling_hours": day0(start=900)}, "calling_hours.days[0].start", id="start-number"),
    pytest.param({"calling_hours": day0(end="6:60 PM")}, "calling_hours.days[0].end", id="end-minute-60"),
    pytest.param(
        {"calling_hours": day0(start="6:00 PM", end="9:00 AM")},
        "calling_hours.days[0].end",
        id="end-before-start",
    ),
    pytest.param(
        {"calling_hours": day0(start="9:00 AM", end="9:00 AM")},
        "calling_hours.days[0].end",
        id="end-equals-start",
    ),
    pytest.param(
        {"calling_hours": day0(start="12:30 PM", end="12:15 AM")},
        "calling_hours.days[0].end",
        id="end-after-midnight",
    ),
    pytest.param({"calling_hours": day0(till="6:00 PM")}, "calling_hours.days[0].till", id="day-unknown-key"),
]


def _assert_names(error: CampaignArgumentsError, field: str) -> None:
    assert field in error.fields, error
    assert f"{field}: " in str(error)


@pytest.mark.parametrize(("overrides", "field"), BAD_INPUTS)
def test_bad_input_is_refused_at_construction(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(CampaignArgumentsError) as raised:
        CreateSmsCampaignOperator(task_id="create", **valid_args(**overrides))
    _assert_names(raised.value, field)


@pytest.mark.parametrize(("overrides", "field"), BAD_INPUTS)
def test_bad_input_is_refused_after_rendering_without_http(
    overrides: dict[str, Any], field: str, no_http: responses.RequestsMock, context: dict[str, Any]
) -> None:
    """As if templates rendered to the bad value: the operator refuses it before any request."""
    operator = CreateSmsCampaignOperator(task_id="create", **valid_args())
    for name, value in overrides.items():
        setattr(operator, name, value)
    with pytest.raises(CampaignArgumentsError) as raised:
        operator.execute(context)
    _assert_names(raised.value, field)
    assert len(no_http.calls) == 0
    context["ti"].xcom_push.assert_not_called()


def test_bad_input_table_is_large_enough() -> None:
    assert len(BAD_INPUTS) >= 25
    assert len({param.values[1] for param in BAD_INPUTS}) >= 20  # distinct fields, not one rule 25 times


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"if_exists": "replace"}, "if_exists"),
        ({"wait_for_ready": "yes"}, "wait_for_ready"),
        ({"ready_timeout": 0}, "ready_timeout"),
        ({"poll_interval": -1}, "poll_interval"),
    ],
)
def test_operator_settings_are_checked_at_construction(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(CampaignArgumentsError) as raised:
        CreateSmsCampaignOperator(task_id="create", **valid_args(**overrides))
    _assert_names(raised.value, field)


def test_one_error_lists_every_problem() -> None:
    args = valid_args(
        name="n" * 60,
        priority=9,
        caller_id="12",
        calling_hours=day0(day="XX", start="10:00 PM", end="8:00 AM"),
    )
    with pytest.raises(CampaignArgumentsError) as raised:
        CreateSmsCampaignOperator(task_id="create", **args)
    assert raised.value.fields == (
        "name",
        "caller_id",
        "calling_hours.days[0].day",
        "calling_hours.days[0].end",
        "priority",
    )
    assert str(raised.value).startswith("5 invalid campaign arguments:")
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    "caller_id",
    ["+14155550100", "12345", "246810", "KoreBank", "Kore Bank 1", "ABCDEFGHIJK"],
    ids=["e164", "5-digit-short-code", "6-digit-short-code", "sender-id", "sender-id-spaces", "11-chars"],
)
def test_every_kind_of_sender_kore_accepts_is_accepted(caller_id: str) -> None:
    """Kore's create page: the caller id is "Sender phone number or ID"."""
    body = SmsCampaignSpec(**{**VALID_ARGS, "caller_id": caller_id}).to_body()
    assert body["dialingStrategy"]["callerId"]["phoneNumber"] == caller_id


def test_a_description_and_a_message_may_hold_line_breaks() -> None:
    body = SmsCampaignSpec(**{**VALID_ARGS, "description": "Spring\nsale\tall week"}).to_body()
    assert body["description"] == "Spring\nsale\tall week"


def test_body_is_the_documented_request() -> None:
    """The operator's body for the documented sample's values is the documented sample body."""
    documented = sample_create_body()
    spec = SmsCampaignSpec(
        name=documented["name"],
        description=documented["description"],
        contact_lists=documented["contactLists"],
        template_name="Welcome",
        message=WELCOME,
        caller_id=documented["dialingStrategy"]["callerId"]["phoneNumber"],
        calling_hours=documented["dialingStrategy"]["callingHours"],
        priority=5,
        dnc_list="testdnc",
    )
    assert spec.to_body() == documented
    assert base64.b64decode(spec.to_body()["message"]["message"]).decode() == WELCOME


@pytest.mark.parametrize(("priority", "sent"), [(1, "1"), (5, "5"), ("3", "3"), (" 2 ", "2")])
def test_priority_is_sent_as_a_string(priority: Any, sent: str) -> None:
    body = SmsCampaignSpec(**{**valid_args(priority=priority)}).to_body()
    assert body["priority"] == sent


def test_dnc_list_is_left_out_when_not_given() -> None:
    assert "dncLists" not in SmsCampaignSpec(**valid_args(dnc_list=None)).to_body()


def test_every_time_zone_pendulum_knows_is_accepted_and_only_those() -> None:
    known = pendulum.timezones()
    assert all(rules.is_known_timezone(name) for name in known)
    assert not rules.is_known_timezone("Asia/Mumbai")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("12:00 AM", 0), ("12:30 PM", 750), ("9:05 AM", 545), ("09:05 AM", 545), ("11:59 PM", 1439)],
)
def test_minutes_of_day(text: str, minutes: int) -> None:
    assert rules.minutes_of_day(text) == minutes


# --- what counts as "the same campaign" ----------------------------------------------------


def _stored(spec: SmsCampaignSpec) -> dict[str, Any]:
    """The campaign Kore.ai would show for ``spec``'s body (the delete sample's shape)."""
    body = spec.to_body()
    return {
        "_id": "cd-1",
        "lname": body["name"].lower(),
        "status": "Ready",
        "direction": body["format"],
        "createdAt": "2025-12-08T07:09:14.523Z",
        **body,
        "message": {**body["message"], "templateId": "cmt-1"},
    }


def test_a_campaign_made_from_the_spec_matches_it() -> None:
    spec = SmsCampaignSpec(**valid_args(contact_lists=["B", "A"]))
    stored = _stored(spec)
    # Kore may reorder lists and day blocks and write times with a leading zero.
    stored["contactLists"] = ["A", "B"]
    stored["dialingStrategy"]["callingHours"]["days"] = [
        {"day": block["day"], "start": "09:00 AM", "end": block["end"]}
        for block in reversed(stored["dialingStrategy"]["callingHours"]["days"])
    ]
    stored["priority"] = 5  # the delete page calls it a number
    assert spec.differences(stored) == ([], [])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: c.update(name=c["name"].upper()), "name"),
        (lambda c: c.update(description="other"), "description"),
        (lambda c: c.update(contactLists=["CL Only 2020 Dec 4", "More"]), "contact_lists"),
        (lambda c: c["message"].update(template_name="Other"), "template_name"),
        (lambda c: c["message"].update(message=rules.encode_message("Hello")), "message"),
        (lambda c: c["dialingStrategy"]["callerId"].update(phoneNumber="+14155550100"), "caller_id"),
        (lambda c: c["dialingStrategy"]["callingHours"].update(frequency="DAILY"), "calling_hours.frequency"),
        (lambda c: c["dialingStrategy"]["callingHours"].update(timezone="UTC"), "calling_hours.timezone"),
        (lambda c: c["dialingStrategy"]["callingHours"]["days"].pop(), "calling_hours.days"),
        (
            lambda c: c["dialingStrategy"]["callingHours"]["days"][0].update(end="5:00 PM"),
            "calling_hours.days",
        ),
        (lambda c: c.update(priority="4"), "priority"),
        (lambda c: c.update(format="advanced"), "format"),
        (lambda c: c.update(dncLists={"name": "other"}), "dnc_list"),
        (lambda c: c.pop("dncLists"), "dnc_list"),
    ],
)
def test_each_differing_field_is_named(change: Any, field: str) -> None:
    spec = SmsCampaignSpec(**valid_args())
    stored = _stored(spec)
    change(stored)
    differing, _ = spec.differences(stored)
    assert [line.split(":", 1)[0] for line in differing] == [field]


def test_fields_kore_does_not_show_are_not_held_against_a_campaign() -> None:
    spec = SmsCampaignSpec(**valid_args())
    summary = {"_id": "cd-1", "name": VALID_ARGS["name"], "status": "Ready", "dncLists": {"name": "testdnc"}}
    differing, unchecked = spec.differences(summary)
    assert differing == []
    assert "message" in unchecked
    assert "calling_hours.days" in unchecked


def test_a_spec_without_a_dnc_list_refuses_a_campaign_that_uses_one() -> None:
    """The one comparison rule (shared with voice and text bodies) keeps the SMS spec's reading:
    no DNC list asked means none may be used."""
    spec = SmsCampaignSpec(**valid_args(dnc_list=None))
    stored = _stored(spec)
    stored["dncLists"] = {"name": "testdnc"}
    differing, _ = spec.differences(stored)
    assert differing == ["dnc_list: asked None, found 'testdnc'"]


def test_voice_bodies_compare_times_regardless_of_a_leading_zero() -> None:
    from airflow_campaign_provider.models.update import wire_differences

    hours = {
        "frequency": "DAILY",
        "timezone": "UTC",
        "days": [{"day": "MO", "start": "9:00 AM", "end": "5:00 PM"}],
    }
    stored_hours = {**hours, "days": [{"day": "MO", "start": "09:00 AM", "end": "05:00 PM"}]}
    asked = {"name": "Reminder", "dialingStrategy": {"callingHours": hours}}
    stored = {"name": "Reminder", "dialingStrategy": {"callingHours": stored_hours}}
    assert wire_differences(asked, stored, "voice") == ([], [])
