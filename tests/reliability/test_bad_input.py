"""Bad input at every entry point: a clear error that names the field, and nothing half done.

Entry points: operator and sensor arguments (checked when the DAG is parsed), templated values
(checked after rendering, before any HTTP), connection fields, trigger kwargs and the events a
trigger hands back, Kore's answers when they are not JSON or lack a field (a scripted stub over
real HTTP), and create bodies the client accepts but the account cannot serve (the sandbox's 412).

Each case must raise one of the provider's errors whose text names the field, raised by the
provider's own code (the innermost frame of the traceback is the provider's, never deep inside
requests, httpx or json); and the sandbox must hold no campaign afterwards. Where the error is
due before any HTTP call, the sandbox must not have received a single request.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_campaign_provider import clock
from airflow_campaign_provider.exceptions import (
    CampaignApiError,
    CampaignAuthError,
    CampaignConnectionConfigError,
    CampaignError,
    CampaignResponseError,
    CampaignServerError,
    CampaignValidationError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.operators.campaign import (
    CreateSmsCampaignOperator,
    DeleteCampaignOperator,
    StartCampaignOperator,
    StopCampaignOperator,
)
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor
from airflow_campaign_provider.triggers.campaign import (
    CampaignStatusTrigger,
    CampaignWaitError,
    campaign_status_from_event,
)
from tests.operators.conftest import valid_args

from .conftest import set_figures
from .harness import fire, task_context
from .stub import Answer, StubKore

CAMPAIGN_ID = "cd-5f2c1e0a-0000-4000-8000-000000000001"
STUB_CONN = "kore_stub"
BAD_CONN = "kore_bad"
PAGE_OK = {"status": "success", "data": {"results": [], "hasMore": False, "totalPages": 0, "totalResults": 0}}


@dataclass
class Env:
    sandbox: SandboxServer
    stub: StubKore
    monkeypatch: pytest.MonkeyPatch

    def bad_connection(self, **changes: Any) -> str:
        """Point ``kore_bad`` at the sandbox, with ``changes`` (None removes a field; ``extra`` merges)."""
        connection = self.sandbox.connection()
        extra = {**connection["extra"], **changes.pop("extra", {})}
        connection["extra"] = {key: value for key, value in extra.items() if value is not None}
        connection.update(changes)
        connection = {key: value for key, value in connection.items() if value is not None}
        self.monkeypatch.setenv("AIRFLOW_CONN_KORE_BAD", json.dumps(connection))
        return BAD_CONN

    def answer(self, method: str, suffix: str, answer: Answer) -> None:
        self.stub.route(method, suffix, answer)


@dataclass(frozen=True)
class Case:
    entry: str
    what: str
    field: str  # the text that names the field in the error
    act: Callable[[Env], Any]
    error: type[BaseException] = InvalidCampaignArgumentError
    sends: bool = False  # whether a request may reach Kore (the sandbox) before the error


def create(**overrides: Any) -> Callable[[Env], Any]:
    return lambda env: CreateSmsCampaignOperator(task_id="create", **valid_args(**overrides))


def hours(**changes: Any) -> dict[str, Any]:
    calling_hours = {**valid_args()["calling_hours"], **changes}
    return {key: value for key, value in calling_hours.items() if value is not None}


def day(**changes: str) -> dict[str, Any]:
    return hours(days=[{"day": "MO", "start": "9:00 AM", "end": "6:00 PM", **changes}])


def rendered(make: Callable[[], Any], **params: Any) -> Callable[[Env], Any]:
    """Render the operator's templates with ``params``, then execute it, as a worker would."""

    def act(env: Env) -> Any:
        operator = make()
        operator.render_template_fields({"params": params})
        return operator.execute(task_context())

    return act


def stop_with(**changes: Any) -> Callable[[Env], Any]:
    def act(env: Env) -> Any:
        conn_id = env.bad_connection(**changes)
        return StopCampaignOperator(task_id="stop", campaign_id=CAMPAIGN_ID, kore_conn_id=conn_id).execute(
            task_context()
        )

    return act


def wait_with(**changes: Any) -> Callable[[Env], Any]:
    """A deferred wait's trigger on a bad connection; its event is judged as execute_complete does."""

    def act(env: Env) -> Any:
        conn_id = env.bad_connection(**changes)
        trigger = CampaignStatusTrigger(
            campaign_id=CAMPAIGN_ID, target_statuses=["Completed"], kore_conn_id=conn_id, poll_interval=0.05
        )
        return campaign_status_from_event(asyncio.run(fire(trigger)), CAMPAIGN_ID)

    return act


def trigger(**overrides: Any) -> Callable[[Env], Any]:
    arguments = {"campaign_id": CAMPAIGN_ID, "target_statuses": ["Completed"], **overrides}
    return lambda env: CampaignStatusTrigger(**arguments)


def event(payload: Any) -> Callable[[Env], Any]:
    return lambda env: campaign_status_from_event(payload, CAMPAIGN_ID)


def answered(routes: list[tuple[str, str, Answer]], run: Callable[[], Any]) -> Callable[[Env], Any]:
    """Script the stub's answers, then run against it."""

    def act(env: Env) -> Any:
        for method, suffix, answer in routes:
            env.answer(method, suffix, answer)
        return run()

    return act


def status_answer(status: str) -> Answer:
    return Answer.json({"status": "success", "data": {"id": CAMPAIGN_ID, "status": status, "name": "n"}})


def poke() -> Any:
    return CampaignStatusSensor(task_id="wait", campaign_id=CAMPAIGN_ID, kore_conn_id=STUB_CONN).execute({})


def stub_wait() -> Any:
    waiting = CampaignStatusTrigger(
        campaign_id=CAMPAIGN_ID, target_statuses=["Completed"], kore_conn_id=STUB_CONN, poll_interval=0.05
    )
    return campaign_status_from_event(asyncio.run(fire(waiting)), CAMPAIGN_ID)


def stub_create() -> Any:
    return CreateSmsCampaignOperator(task_id="create", kore_conn_id=STUB_CONN, **valid_args()).execute(
        task_context()
    )


def stub_target(operator: type[Any]) -> Callable[[], Any]:
    return lambda: operator(task_id="t", campaign_id=CAMPAIGN_ID, kore_conn_id=STUB_CONN).execute(
        task_context()
    )


STATUS = f"/campaign/{CAMPAIGN_ID}/status"
LIST = "/getAllCampaignDetails"
HTML = Answer(200, "<html><body><h1>Welcome to our proxy</h1></body></html>", "text/html")
LONG_NAME = "N" * 49

CASES = [
    # --- operator and sensor arguments, checked when the DAG file is parsed ---------------------
    Case("argument", "name longer than 48", "name", create(name=LONG_NAME)),
    Case("argument", "blank name", "name", create(name="   ")),
    Case("argument", "name padded with spaces", "name", create(name=" Spring sale")),
    Case("argument", "description longer than 256", "description", create(description="d" * 257)),
    Case("argument", "no contact list", "contact_lists", create(contact_lists=[])),
    Case("argument", "contact_lists a string", "contact_lists", create(contact_lists="CL Only 2020 Dec 4")),
    Case("argument", "contact list twice", "contact_lists[1]", create(contact_lists=["A", "A"])),
    Case("argument", "blank template_name", "template_name", create(template_name="")),
    Case("argument", "message not text", "message", create(message=42)),
    Case("argument", "caller_id not E.164", "caller_id", create(caller_id="4155550100")),
    Case("argument", "calling_hours without timezone", "calling_hours.timezone", create(calling_hours=hours(timezone=None))),
    Case("argument", "unknown calling_hours key", "calling_hours.holidays", create(calling_hours=hours(holidays=[]))),
    Case("argument", "frequency HOURLY", "calling_hours.frequency", create(calling_hours=hours(frequency="HOURLY"))),
    Case("argument", "unknown time zone", "calling_hours.timezone", create(calling_hours=hours(timezone="Mars/Olympus"))),
    Case("argument", "no calling days", "calling_hours.days", create(calling_hours=hours(days=[]))),
    Case("argument", "day XX", "calling_hours.days[0].day", create(calling_hours=day(day="XX"))),
    Case("argument", "start 9am", "calling_hours.days[0].start", create(calling_hours=day(start="9am"))),
    Case("argument", "end before start", "calling_hours.days[0].end", create(calling_hours=day(end="8:00 AM"))),
    Case("argument", "priority 0", "priority", create(priority=0)),
    Case("argument", "priority high", "priority", create(priority="high")),
    Case("argument", "format advanced", "format", create(format="advanced")),
    Case("argument", "blank dnc_list", "dnc_list", create(dnc_list="")),
    Case("argument", "if_exists overwrite", "if_exists", create(if_exists="overwrite")),
    Case("argument", "ready_timeout 0", "ready_timeout", create(ready_timeout=0)),
    Case("argument", "poll_interval -1", "poll_interval", create(poll_interval=-1)),
    Case("argument", "start: empty campaign_id", "campaign_id", lambda env: StartCampaignOperator(task_id="s", campaign_id="")),
    Case("argument", "stop: campaign_id with a slash", "campaign_id", lambda env: StopCampaignOperator(task_id="s", campaign_id="cd-1/../x")),
    Case("argument", "delete: campaign_type fax", "campaign_type", lambda env: DeleteCampaignOperator(task_id="d", campaign_id=CAMPAIGN_ID, campaign_type="fax")),
    Case("argument", "start: timeout 0", "timeout", lambda env: StartCampaignOperator(task_id="s", campaign_id=CAMPAIGN_ID, timeout=0)),
    Case(
        "argument",
        "start: poll_interval 0 with a deferred wait",
        "poll_interval",
        lambda env: StartCampaignOperator(
            task_id="s", campaign_id=CAMPAIGN_ID, poll_interval=0, wait_for_completion=True, deferrable=True
        ),
    ),
    Case("argument", "sensor: target status Done", "target_statuses", lambda env: CampaignStatusSensor(task_id="w", campaign_id=CAMPAIGN_ID, target_statuses=["Done"])),
    Case("argument", "sensor: no target status", "target_statuses", lambda env: CampaignStatusSensor(task_id="w", campaign_id=CAMPAIGN_ID, target_statuses=[])),
    Case(
        "argument",
        "sensor: failure status also a target",
        "failure_statuses",
        lambda env: CampaignStatusSensor(task_id="w", campaign_id=CAMPAIGN_ID, failure_statuses=["Completed"]),
    ),
    # --- templated values, checked after rendering and before any HTTP call ---------------------
    Case("rendered template", "name rendered to 60 characters", "name", rendered(lambda: CreateSmsCampaignOperator(task_id="c", **valid_args(name="{{ params.name }}")), name="x" * 60)),
    Case("rendered template", "caller_id rendered to 12", "caller_id", rendered(lambda: CreateSmsCampaignOperator(task_id="c", **valid_args(caller_id="{{ params.phone }}")), phone="12")),
    Case(
        "rendered template",
        "contact_lists rendered to a string",
        "contact_lists",
        rendered(lambda: CreateSmsCampaignOperator(task_id="c", **valid_args(contact_lists="{{ params.lists }}")), lists=["CL"]),
    ),
    Case(
        "rendered template",
        "a calling day rendered to XX",
        "calling_hours.days[0].day",
        rendered(lambda: CreateSmsCampaignOperator(task_id="c", **valid_args(calling_hours=day(day="{{ params.day }}"))), day="XX"),
    ),
    Case("rendered template", "priority rendered to 9", "priority", rendered(lambda: CreateSmsCampaignOperator(task_id="c", **valid_args(priority="{{ params.p }}")), p=9)),
    Case("rendered template", "start: campaign_id rendered empty", "campaign_id", rendered(lambda: StartCampaignOperator(task_id="s", campaign_id="{{ params.cid }}"), cid="")),
    Case("rendered template", "delete: campaign_type rendered to fax", "campaign_type", rendered(lambda: DeleteCampaignOperator(task_id="d", campaign_id=CAMPAIGN_ID, campaign_type="{{ params.kind }}"), kind="fax")),
    Case("rendered template", "sensor: campaign_id rendered with a space", "campaign_id", rendered(lambda: CampaignStatusSensor(task_id="w", campaign_id="{{ params.cid }}"), cid="cd 1")),
    # --- connection fields, checked before any HTTP call ------------------------------------------
    Case("connection", "no host", "host", stop_with(host=None), CampaignConnectionConfigError),
    Case("connection", "host ftp://", "host", stop_with(host="ftp://kore.example"), CampaignConnectionConfigError),
    Case("connection", "no client id", "login (Client ID)", stop_with(login=None), CampaignConnectionConfigError),
    Case("connection", "no client secret", "password (Client Secret)", stop_with(password=None), CampaignConnectionConfigError),
    Case("connection", "no account id", "extra.account_id", stop_with(extra={"account_id": None}), CampaignConnectionConfigError),
    Case("connection", "no stream id", "extra.stream_id", stop_with(extra={"stream_id": None}), CampaignConnectionConfigError),
    Case("connection", "token lifetime soon", "extra.jwt_lifetime_seconds", stop_with(extra={"jwt_lifetime_seconds": "soon"}), CampaignConnectionConfigError),
    Case("connection", "token lifetime 2 h", "extra.jwt_lifetime_seconds", stop_with(extra={"jwt_lifetime_seconds": 7200}), CampaignConnectionConfigError),
    Case("connection", "enforce_jti maybe", "extra.enforce_jti", stop_with(extra={"enforce_jti": "maybe"}), CampaignConnectionConfigError),
    Case("connection", "0 requests a minute", "extra.requests_per_minute", stop_with(extra={"requests_per_minute": 0}), CampaignConnectionConfigError),
    Case("connection", "trigger_path without {campaign_id}", "extra.trigger_path", stop_with(extra={"trigger_path": "//trigger/"}), CampaignConnectionConfigError),
    Case("connection", "deferred wait: no account id", "extra.account_id", wait_with(extra={"account_id": None}), CampaignWaitError),
    Case("connection", "deferred wait: token lifetime soon", "extra.jwt_lifetime_seconds", wait_with(extra={"jwt_lifetime_seconds": "soon"}), CampaignWaitError),
    # --- trigger kwargs (what Airflow stores and the triggerer rebuilds) and the events -----------
    Case("trigger kwargs", "empty campaign_id", "campaign_id", trigger(campaign_id="")),
    Case("trigger kwargs", "campaign_id None", "campaign_id", trigger(campaign_id=None)),
    Case("trigger kwargs", "target status Done", "target_statuses", trigger(target_statuses=["Done"])),
    Case("trigger kwargs", "campaign_type fax", "campaign_type", trigger(campaign_type="fax")),
    Case("trigger kwargs", "poll_interval 0", "poll_interval", trigger(poll_interval=0)),
    Case("trigger kwargs", "poll_interval NaN", "poll_interval", trigger(poll_interval=float("nan"))),
    Case("trigger kwargs", "poll_interval soon", "poll_interval", trigger(poll_interval="soon")),
    Case("trigger kwargs", "end_time infinite", "end_time", trigger(end_time=float("inf"))),
    Case("trigger kwargs", "end_time tomorrow", "end_time", trigger(end_time="tomorrow")),
    Case("trigger event", "not a mapping", "campaign status event", event(["success"]), CampaignWaitError),
    Case("trigger event", "unknown status", "malformed campaign status event", event({"status": "ok", "message": "m"}), CampaignWaitError),
    Case(
        "trigger event",
        "about another campaign",
        "the event is about campaign 'cd-other'",
        event({"status": "success", "campaign_id": "cd-other", "campaign_status": "Completed", "message": "m"}),
        CampaignWaitError,
    ),
    Case(
        "trigger event",
        "success without a status",
        "without a campaign status",
        event({"status": "success", "campaign_id": CAMPAIGN_ID, "campaign_status": None, "message": "m"}),
        CampaignWaitError,
    ),
    # --- Kore's answers: not JSON, lacking a field, failing at API level (the stub) ----------------
    Case("API answer", "status: an HTML page", "answer is not JSON", answered([("POST", STATUS, HTML)], poke), CampaignResponseError),
    Case(
        "API answer",
        "status: no data.status",
        "answer lacks data.status",
        answered([("POST", STATUS, Answer.json({"status": "success", "data": {"id": CAMPAIGN_ID}}))], poke),
        CampaignResponseError,
    ),
    Case("API answer", "status: empty body", "answer lacks data.status", answered([("POST", STATUS, Answer(200, ""))], poke), CampaignResponseError),
    Case("API answer", "status: a JSON list", "expected a JSON object, got list", answered([("POST", STATUS, Answer.json([]))], poke), CampaignResponseError),
    Case(
        "API answer",
        "status: API-level failure",
        "Campaign is archived",
        answered([("POST", STATUS, Answer.json({"status": "failure", "message": "Campaign is archived"}))], poke),
        CampaignApiError,
    ),
    Case(
        "API answer",
        "list: no data.results (create's name look-up)",
        "answer lacks data.results",
        answered([("POST", LIST, Answer.json({"status": "success", "data": {}}))], stub_create),
        CampaignResponseError,
    ),
    Case(
        "API answer",
        "create: no _id",
        "answer lacks the campaign id (_id)",
        answered([("POST", LIST, Answer.json(PAGE_OK)), ("POST", "/campaign", Answer.json({"name": "x"}))], stub_create),
        CampaignResponseError,
    ),
    Case(
        "API answer",
        "create: an HTML page",
        "answer is not JSON",
        answered([("POST", LIST, Answer.json(PAGE_OK)), ("POST", "/campaign", HTML)], stub_create),
        CampaignResponseError,
    ),
    Case(
        "API answer",
        "play: no status",
        "answer lacks status",
        answered([("POST", STATUS, status_answer("Ready")), ("POST", f"/{CAMPAIGN_ID}", Answer.json({"message": "ok"}))], stub_target(StartCampaignOperator)),
        CampaignResponseError,
    ),
    Case(
        "API answer",
        "delete: API-level failure",
        "Kore answered status 'failure'",
        answered([("POST", STATUS, status_answer("Ready")), ("DELETE", f"/campaign/{CAMPAIGN_ID}", Answer.json({"status": "failure"}))], stub_target(DeleteCampaignOperator)),
        CampaignApiError,
    ),
    Case(
        "API answer",
        "stop: 502 with an HTML page, after retries",
        "HTTP 502",
        answered([("POST", STATUS, Answer(502, "<html><h1>502 Bad Gateway</h1></html>", "text/html"))], stub_target(StopCampaignOperator)),
        CampaignServerError,
    ),
    Case(
        "API answer",
        "401 with an HTML page",
        "HTTP 401",
        answered([("POST", STATUS, Answer(401, "<html>Unauthorized</html>", "text/html"))], poke),
        CampaignAuthError,
    ),
    Case(
        "API answer",
        "deferred wait: no data.status",
        "answer lacks data.status",
        answered([("POST", STATUS, Answer.json({"status": "success", "data": {}}))], stub_wait),
        CampaignWaitError,
    ),
    Case("API answer", "deferred wait: an HTML page", "answer is not JSON", answered([("POST", STATUS, HTML)], stub_wait), CampaignWaitError),
    # --- bodies the client accepts but the account cannot serve (the sandbox's 412) --------------
    Case("Kore refusal", "unknown contact list", "contactLists[0]", lambda env: create(contact_lists=["No such list"])(env).execute(task_context()), CampaignValidationError, sends=True),
    Case("Kore refusal", "unknown template", "message.template_name", lambda env: create(template_name="No such template")(env).execute(task_context()), CampaignValidationError, sends=True),
    Case("Kore refusal", "message differs from the template", "message.message", lambda env: create(message="Hello!")(env).execute(task_context()), CampaignValidationError, sends=True),
    Case("Kore refusal", "unknown DNC list", "dncLists.name", lambda env: create(dnc_list="No such DNC list")(env).execute(task_context()), CampaignValidationError, sends=True),
]  # fmt: skip

#: ``(entry, outcome)`` of every case run, for the summary table.
OUTCOMES: Counter[tuple[str, str]] = Counter()


@pytest.fixture(scope="module")
def stub() -> Iterator[StubKore]:
    with StubKore() as running:
        yield running


@pytest.fixture
def env(kore_sandbox: SandboxServer, stub: StubKore, monkeypatch: pytest.MonkeyPatch) -> Env:
    stub.routes.clear()
    monkeypatch.setenv("AIRFLOW_CONN_KORE_STUB", json.dumps(stub.connection()))
    monkeypatch.setattr(clock, "backoff", lambda seconds: None)

    async def no_wait(seconds: float) -> None:
        return None

    monkeypatch.setattr(clock, "backoff_async", no_wait)
    return Env(kore_sandbox, stub, monkeypatch)


def test_at_least_forty_cases_cover_every_entry_point() -> None:
    entries = Counter(case.entry for case in CASES)
    assert len(CASES) >= 40
    assert set(entries) == {
        "argument",
        "rendered template",
        "connection",
        "trigger kwargs",
        "trigger event",
        "API answer",
        "Kore refusal",
    }


@pytest.mark.parametrize("case", CASES, ids=[f"{case.entry}: {case.what}" for case in CASES])
def test_bad_input_gets_a_clear_error_naming_the_field(case: Case, env: Env) -> None:
    with pytest.raises(case.error) as caught:
        case.act(env)
    error = caught.value
    assert isinstance(error, CampaignError), f"not a provider error: {type(error).__name__}: {error}"
    text = str(error)
    assert case.field in text, text
    innermost = traceback.extract_tb(error.__traceback__)[-1]
    assert "/airflow_campaign_provider/" in innermost.filename, f"raised in {innermost.filename}"
    assert "Traceback" not in text
    assert env.sandbox.client_secret not in text

    admin = env.sandbox.admin
    assert admin.campaigns()["liveCount"] == 0, "a campaign was created"
    sent = admin.requests()
    if case.sends:
        creates = [r for r in sent if r["method"] == "POST" and r["path"].endswith("/campaign")]
        assert [r["status"] for r in creates] == [412]
        OUTCOMES[(case.entry, "refused by Kore")] += 1
    else:
        assert sent == [], "a request reached Kore before the error"
        OUTCOMES[(case.entry, "no HTTP before the error")] += 1
    OUTCOMES[(case.entry, "named the field")] += 1
    set_figures("Bad input: a clear error naming the field", table_of_outcomes())


def table_of_outcomes() -> list[tuple[str, str]]:
    """What the cases run so far showed, per entry point: every figure counted, none assumed."""
    entries = Counter(case.entry for case in CASES)
    rows = []
    for entry, count in entries.items():
        named = OUTCOMES[(entry, "named the field")]
        quiet = OUTCOMES[(entry, "no HTTP before the error")]
        refused = OUTCOMES[(entry, "refused by Kore")]
        where = f"{quiet} sent no request first" + (f", {refused} refused by Kore's 412" if refused else "")
        rows.append((entry, f"{named} of {count} cases named the field; {where}"))
    named = sum(OUTCOMES[(entry, "named the field")] for entry in entries)
    quiet = sum(OUTCOMES[(entry, "no HTTP before the error")] for entry in entries)
    due_quiet = sum(1 for case in CASES if not case.sends)
    rows.append(
        (
            "all",
            f"{named} of {len(CASES)} named the field, no campaign created; "
            f"{quiet} of {due_quiet} due before any HTTP call sent no request",
        )
    )
    return rows
