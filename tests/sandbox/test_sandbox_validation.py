"""Create-body validation: every documented rule, all problems in one 412, never a 5xx."""

from __future__ import annotations

import base64
import copy
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_campaign_provider.sandbox.errors import KoreError
from airflow_campaign_provider.sandbox.seed import WELCOME_BODY, default_seed, sample_create_body
from airflow_campaign_provider.sandbox.validation import ListQuery, validate_create
from tests.sandbox.testkit import error_messages

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_campaign_provider.sandbox.seed import Template
    from tests.sandbox.testkit import KoreClient


class _Deleted:
    def __repr__(self) -> str:
        return "<deleted>"


DELETE = _Deleted()


def mutated(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `body` with the dotted `path` set to `value` (or removed with DELETE)."""
    out = copy.deepcopy(body)
    *parents, last = path.split(".")
    node: Any = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


HOURS = "dialingStrategy.callingHours"
# (path, new value, field named in the message, words of the rule)
RULES: list[tuple[str, Any, str, str]] = [
    ("name", DELETE, "name", "required"),
    ("name", 42, "name", "string"),
    ("name", "x" * 49, "name", "at most 48"),
    ("name", "   ", "name", "blank"),
    ("description", DELETE, "description", "required"),
    ("description", "d" * 257, "description", "at most 256"),
    ("contactLists", [], "contactLists", "non-empty"),
    ("contactLists", "CL Only 2020 Dec 4", "contactLists", "non-empty array"),
    ("contactLists", ["No such list"], "contactLists[0]", "does not exist"),
    ("contactLists", [7], "contactLists[0]", "string"),
    ("dncLists", "testdnc", "dncLists", "object"),
    ("dncLists.name", "nodnc", "dncLists.name", "does not exist"),
    ("campaignType", "voice", "campaignType", '"sms"'),
    ("campaignType", DELETE, "campaignType", '"sms"'),
    ("priority", 5, "priority", '"1"'),
    ("priority", "6", "priority", '"5"'),
    ("format", "fancy", "format", '"simple"'),
    ("message", DELETE, "message", "required"),
    ("message", "hello", "message", "object"),
    ("message.template_name", "Goodbye", "message.template_name", "does not exist"),
    ("message.template_name", None, "message.template_name", "string"),
    ("message.message", "not base64!", "message.message", "base64"),
    ("message.message", base64.b64encode(b"Hello there").decode(), "message.message", "word for word"),
    (
        "message.message",
        base64.b64encode(WELCOME_BODY.encode() + b" ").decode(),
        "message.message",
        "word for word",
    ),
    ("message.message", base64.b64encode(b"\xff\xfe").decode(), "message.message", "UTF-8"),
    ("dialingStrategy", DELETE, "dialingStrategy", "required"),
    ("dialingStrategy.callerId", DELETE, "dialingStrategy.callerId", "required"),
    ("dialingStrategy.callerId.phoneNumber", DELETE, "dialingStrategy.callerId.phoneNumber", "required"),
    ("dialingStrategy.callerId.phoneNumber", "09561612345", "dialingStrategy.callerId.phoneNumber", "E.164"),
    (HOURS, DELETE, HOURS, "required"),
    (f"{HOURS}.frequency", "HOURLY", f"{HOURS}.frequency", "WEEKLY"),
    (f"{HOURS}.timezone", "Mars/Olympus_Mons", f"{HOURS}.timezone", "IANA"),
    (f"{HOURS}.timezone", DELETE, f"{HOURS}.timezone", "required"),
    (f"{HOURS}.days", [], f"{HOURS}.days", "non-empty"),
    (f"{HOURS}.days.0", "MO", f"{HOURS}.days[0]", "object"),
    (f"{HOURS}.days.0.day", "MON", f"{HOURS}.days[0].day", '"MO"'),
    (f"{HOURS}.days.1.start", "9am", f"{HOURS}.days[1].start", "9:00 AM"),
    (f"{HOURS}.days.1.start", "13:00 PM", f"{HOURS}.days[1].start", "9:00 AM"),
    (f"{HOURS}.days.2.end", DELETE, f"{HOURS}.days[2].end", "required"),
    (f"{HOURS}.days.3.end", "8:59 AM", f"{HOURS}.days[3].end", "later than start"),
    (f"{HOURS}.days.4.start", "6:00 PM", f"{HOURS}.days[4].end", "later than start"),
    # "advanced" is the flow format (create-sms-campaign-advanced-format page): it names a flow
    ("format", "advanced", "experienceFlowName", "required"),
    # a message without template_name is plain text (create-sms-campaign-without-template page)
    ("message", {}, "message.message", "required"),
]


@pytest.mark.parametrize(
    ("path", "value", "field", "rule"), RULES, ids=[f"{r[0]}={r[1]!r}"[:60] for r in RULES]
)
def test_each_rule(
    kore: KoreClient, sample_body: dict[str, Any], path: str, value: Any, field: str, rule: str
) -> None:
    answer = kore.create(mutated(sample_body, path, value))

    assert answer.status_code == 412, answer.text
    messages = error_messages(answer)
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{field}: ")
    assert rule in messages[0]
    assert answer.json()["errors"][0]["code"] == 412
    assert kore.sandbox.admin.campaigns()["liveCount"] == 0


def test_all_problems_come_in_one_answer(kore: KoreClient, sample_body: dict[str, Any]) -> None:
    body = sample_body
    for path, value, _, _ in [RULES[2], RULES[5], RULES[15], RULES[21], RULES[31], RULES[39]]:
        body = mutated(body, path, value)

    answer = kore.call("POST", "", params={"campaignType": "fax"}, json=body)

    assert answer.status_code == 412
    assert [m.split(": ")[0] for m in error_messages(answer)] == [
        "campaignType (query)",
        "name",
        "description",
        "priority",
        "message.message",
        f"{HOURS}.timezone",
        f"{HOURS}.days[3].end",
    ]


def test_optional_dnc_list_and_more_day_blocks(kore: KoreClient, sample_body: dict[str, Any]) -> None:
    body = mutated(sample_body, "dncLists", DELETE)
    body["dialingStrategy"]["callingHours"]["days"].append(
        {"day": "SA", "start": "10:30 AM", "end": "12:00 PM"}
    )

    created = kore.create_ok(body)

    assert "dncLists" not in created
    assert created["dialingStrategy"]["callingHours"]["days"][-1]["day"] == "SA"


def test_duplicate_names_are_refused_case_insensitively(
    kore: KoreClient, sample_body: dict[str, Any]
) -> None:
    first = kore.create_ok(sample_body)

    again = kore.create(mutated(sample_body, "name", sample_body["name"].upper()))

    assert again.status_code == 412
    assert error_messages(again) == [f"name: a campaign named {sample_body['name'].upper()!r} already exists"]
    assert kore.delete(first["_id"]).status_code == 200
    kore.create_ok(sample_body)  # the name is free again once deleted


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b'{"name": NaN}', 400),
        (b"[" * 100_000, 400),
        (b"\xff\xfe", 400),
        (b"", 412),
        (b"[]", 412),
        (b'"a string"', 412),
        (b"null", 412),
    ],
    ids=["malformed", "NaN", "deep", "not utf-8", "empty", "array", "string", "null"],
)
def test_bodies_that_are_not_objects(kore: KoreClient, content: bytes, status: int) -> None:
    answer = kore.call("POST", "", params={"campaignType": "sms"}, content=content)

    assert answer.status_code == status, answer.text
    assert answer.json()["errors"]


def test_oversized_bodies_are_refused(kore: KoreClient, sample_body: dict[str, Any]) -> None:
    answer = kore.create(mutated(sample_body, "description", "d" * 2_000_000))

    assert answer.status_code == 413
    assert kore.sandbox.admin.requests()[-1]["status"] == 413


class _Data:
    """The default seed as validation sees it."""

    def __init__(self, taken: set[str]) -> None:
        seed = default_seed()
        self.contact_lists: Mapping[str, list[str]] = seed.contact_lists
        self.dnc_lists: Mapping[str, list[str]] = seed.dnc_lists
        self.templates: Mapping[str, Template] = seed.templates
        self._taken = taken

    def name_taken(self, name: str) -> bool:
        return name.lower() in self._taken


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
SAMPLE_PATHS = sorted({r[0] for r in RULES})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=JSON, query_type=st.none() | st.text(max_size=5))
def test_validation_never_crashes_on_arbitrary_json(body: Any, query_type: str | None) -> None:
    problems = validate_create(body, query_type, _Data(set()))

    assert problems  # nothing random is a valid campaign
    assert all(": " in p for p in problems)


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(SAMPLE_PATHS), value=JSON)
def test_any_single_field_replaced_is_either_valid_or_named(path: str, value: Any) -> None:
    body = mutated(sample_create_body(), path, value)

    problems = validate_create(body, "sms", _Data(set()))

    top = path.split(".")[0]
    assert all(p.startswith(top) for p in problems), problems


@settings(max_examples=300, deadline=None)
@given(body=JSON)
def test_list_queries_never_crash(body: Any) -> None:
    status, problems = 200, []
    try:
        query = ListQuery(body, max_page_size=100)
    except KoreError as exc:
        status, problems = exc.status, exc.messages
    else:
        assert 1 <= query.limit <= 100
        assert query.offset >= 0
    assert (status == 412) == bool(problems)
