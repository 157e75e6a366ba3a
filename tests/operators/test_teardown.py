"""TeardownCampaignsOperator and the teardown unit against the sandbox: any number of campaigns,
each stopped at most once and deleted once, inside the account budget; a retry finishes the rest;
a dry run sends nothing; statuses learnt a list page at a time."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import campaign_id_of
from airflow_campaign_provider.exceptions import CampaignValidationError
from airflow_campaign_provider.hooks import campaign as hook_module
from airflow_campaign_provider.lifecycle.teardown import (
    PAGE_SIZE,
    CampaignFilter,
    TeardownIncompleteError,
    teardown_campaigns,
)
from airflow_campaign_provider.operators.teardown import DEFAULT_CONN_ID, TeardownCampaignsOperator
from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer
from airflow_campaign_provider.sandbox.run_dag import request_campaign_id, request_kind
from tests.figures import add_figures
from tests.test_budget import busiest_window

GONE = "cd-00000000-0000-4000-8000-00000000dead"
#: The bulk sandbox's limit and the connection's budget: per window of this many seconds.
BULK_LIMIT, BULK_WINDOW = 5000, 5


def use_connection(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch, requests: int, window: int
) -> None:
    """Point the default connection at ``server`` with a budget of ``requests`` per ``window`` s."""
    connection = server.connection()
    connection["extra"].update(requests_per_minute=requests, budget_window_seconds=window)
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", json.dumps(connection))


@pytest.fixture
def sandbox(kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """The shared sandbox (no rate limit) with a budget that never makes these tests wait."""
    use_connection(kore_sandbox, monkeypatch, 100_000, 60)
    monkeypatch.setattr(clock, "backoff", lambda seconds: None)
    return kore_sandbox


@pytest.fixture(scope="module")
def bulk_server() -> Iterator[SandboxServer]:
    """A sandbox in its own process (its own GIL) that rate-limits, with room for 30,000 log records."""
    config = SandboxConfig(
        rate_limit_per_window=BULK_LIMIT,
        rate_limit_window_seconds=BULK_WINDOW,
        request_log_size=100_000,
        preparing_seconds=0.0,
    )
    with SandboxServer(config, subprocess=True) as server:
        yield server


@pytest.fixture
def bulk(bulk_server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    bulk_server.admin.reset()
    use_connection(bulk_server, monkeypatch, BULK_LIMIT, BULK_WINDOW)
    return bulk_server


def context(conf: dict[str, Any] | None = None, events: dict[Any, Any] | None = None) -> dict[str, Any]:
    return {
        "ti": mock.MagicMock(),
        "dag_run": SimpleNamespace(conf=conf or {}),
        "triggering_asset_events": events or {},
    }


def seed_mix(
    server: SandboxServer, active: int, completed: int, stopped: int, ready: int
) -> dict[str, list[str]]:
    admin = server.admin
    return {
        "Active": admin.seed_many(active, {"status": "Active", "complete_in_seconds": 3600})
        if active
        else [],
        "Completed": admin.seed_many(completed, {"status": "Completed"}) if completed else [],
        "Stopped": admin.seed_many(stopped, {"status": "Stopped"}) if stopped else [],
        "Ready": admin.seed_many(ready, {"status": "Ready"}) if ready else [],
    }


def successful_calls(server: SandboxServer) -> dict[str, Counter[str]]:
    """Per kind (stop, delete, ...) how many 2xx answers each campaign got."""
    per: dict[str, Counter[str]] = {}
    for record in server.admin.requests():
        if 200 <= record["status"] < 300:
            per.setdefault(request_kind(record), Counter())[request_campaign_id(record) or ""] += 1
    return per


def test_ten_thousand_campaigns_each_stopped_and_deleted_once_inside_the_budget(bulk: SandboxServer) -> None:
    ids = seed_mix(bulk, active=4000, completed=3000, stopped=2000, ready=1000)
    named = [*ids["Active"], *ids["Completed"], GONE, *ids["Stopped"], *ids["Ready"], ids["Active"][0]]
    operator = TeardownCampaignsOperator(task_id="teardown", campaign_ids=named)

    began = time.monotonic()
    report = operator.execute(context())
    seconds = time.monotonic() - began

    assert report["counts"] == {"stopped_and_deleted": 4000, "deleted": 6000, "already_gone": 1}
    assert bulk.admin.campaigns()["liveCount"] == 0
    requests = bulk.admin.requests()
    kinds = Counter(request_kind(r) for r in requests)
    pages = math.ceil(10_000 / 100)
    assert kinds == {"list": pages, "stop": 4000, "delete": 10_000}  # calls = pages + stops + deletes
    assert [r for r in requests if r["status"] == 429] == []
    times = sorted(datetime.fromisoformat(r["time"]).timestamp() for r in requests)
    peak = busiest_window(times, BULK_WINDOW)
    assert peak <= BULK_LIMIT
    calls = successful_calls(bulk)
    assert set(calls["stop"]) == set(ids["Active"])
    assert set(calls["stop"].values()) == {1}
    assert set(calls["delete"]) == {cid for group in ids.values() for cid in group}
    assert set(calls["delete"].values()) == {1}
    add_figures(
        "Teardown of 10,000 sandbox campaigns in one task (tests/operators/test_teardown.py)",
        [
            ("campaigns (4,000 Active, 6,000 finished or never started)", "10,000"),
            ("Kore calls: list pages + stops + deletes", f"{pages} + 4,000 + 10,000 = {len(requests):,}"),
            (f"busiest {BULK_WINDOW} s window (budget {BULK_LIMIT})", str(peak)),
            ("429s", "0"),
            ("seconds (2-core CI machine)", f"{seconds:.1f}"),
        ],
    )


def test_a_retry_after_a_mid_run_failure_finishes_the_rest(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed_mix(sandbox, active=150, completed=150, stopped=0, ready=0)
    named = [*ids["Active"], *ids["Completed"]]
    delete = hook_module.CampaignHook.delete_campaign
    deletes = [0]

    def failing_midway(self: Any, campaign_id: str, campaign_type: str = "sms") -> dict[str, Any]:
        deletes[0] += 1
        if deletes[0] == 120:  # the server goes down: every Kore request answers 503 from now on
            sandbox.admin.set_faults(error_rate=1.0, error_status=503)
        return delete(self, campaign_id, campaign_type)

    monkeypatch.setattr(hook_module.CampaignHook, "delete_campaign", failing_midway)
    operator = TeardownCampaignsOperator(task_id="teardown", campaign_ids=named, max_workers=2)
    first_try = context()

    with pytest.raises(TeardownIncompleteError, match="A retry re-reads the statuses"):
        operator.execute(first_try)

    (pushed,) = first_try["ti"].xcom_push.call_args_list
    assert pushed.kwargs["key"] == "teardown_report"
    left = [c for c in pushed.kwargs["value"]["campaigns"] if c["action"] == "not_reached"]
    assert 100 < len(left) < 200
    sandbox.admin.clear_faults()
    sandbox.admin.clear_requests()
    live_before_retry = {c["id"]: c["status"] for c in sandbox.admin.campaigns()["campaigns"]}

    retry = operator.execute(context())

    assert sandbox.admin.campaigns()["liveCount"] == 0
    retried = {c["campaign_id"]: c["action"] for c in retry["campaigns"]}
    still_active = {cid for cid, status in live_before_retry.items() if status == "Active"}
    assert {cid for cid, action in retried.items() if action == "stopped_and_deleted"} == still_active
    assert {cid for cid, action in retried.items() if action == "deleted"} == set(
        live_before_retry
    ) - still_active
    assert sum(1 for action in retried.values() if action == "already_gone") == 300 - len(live_before_retry)
    calls = successful_calls(sandbox)
    assert set(calls["stop"]) == still_active  # what the first try stopped is not stopped again
    assert set(calls["delete"]) == set(live_before_retry)
    assert set(calls["delete"].values()) == {1}


def test_a_dry_run_lists_what_it_would_do_and_sends_no_stop_or_delete(sandbox: SandboxServer) -> None:
    ids = seed_mix(sandbox, active=2, completed=1, stopped=1, ready=1)
    named = [GONE, *ids["Active"], *ids["Completed"], *ids["Stopped"], *ids["Ready"]]

    report = TeardownCampaignsOperator(task_id="plan", campaign_ids=named, dry_run=True).execute(context())

    assert [c["action"] for c in report["campaigns"]] == [
        "already_gone",
        "would_stop_and_delete",
        "would_stop_and_delete",
        "would_delete",
        "would_delete",
        "would_delete",
    ]
    assert report["dry_run"] is True
    assert [request_kind(r) for r in sandbox.admin.requests()] == ["list"]
    assert sandbox.admin.campaigns()["liveCount"] == 5


def test_a_filter_takes_the_matching_campaigns_only(sandbox: SandboxServer) -> None:
    admin = sandbox.admin
    promos = admin.seed_many(3, {"status": "Completed"}, name_prefix="Promo spring ")
    running = admin.seed_many(
        2, {"status": "Active", "complete_in_seconds": 600}, name_prefix="PROMO summer "
    )
    admin.seed_many(2, {"status": "Completed"}, name_prefix="Billing ")
    admin.seed_many(1, {"status": "Ready"}, name_prefix="Promo draft ")

    report = TeardownCampaignsOperator(
        task_id="by_filter", statuses=["Completed", "Active"], name_pattern="promo *"
    ).execute(context())

    actions = {c["campaign_id"]: c["action"] for c in report["campaigns"]}
    assert actions == {**dict.fromkeys(promos, "deleted"), **dict.fromkeys(running, "stopped_and_deleted")}
    left = sorted(c["name"] for c in admin.campaigns()["campaigns"])
    assert left == ["Billing 1", "Billing 2", "Promo draft 1"]


def test_created_before_takes_only_older_campaigns(sandbox: SandboxServer) -> None:
    old = sandbox.admin.seed_many(2, {"status": "Completed"})
    cutoff = datetime.now(timezone.utc) + timedelta(milliseconds=5)
    time.sleep(0.05)
    sandbox.admin.seed_many(2, {"status": "Completed"})

    report = TeardownCampaignsOperator(task_id="old", created_before=cutoff.isoformat()).execute(context())

    assert {c["campaign_id"] for c in report["campaigns"]} == set(old)
    assert sandbox.admin.campaigns()["liveCount"] == 2


def test_ids_come_from_the_list_the_conf_and_the_asset_events_each_once(sandbox: SandboxServer) -> None:
    ids = seed_mix(sandbox, active=1, completed=3, stopped=0, ready=0)
    a, (b, c, d) = ids["Active"][0], ids["Completed"]
    events = {
        "kore_campaigns_finished": [
            SimpleNamespace(
                extra={"campaign_ids": [c, a]},
                source_dag_id="segments",
                source_run_id="r",
                source_task_id="t",
            ),
            SimpleNamespace(
                extra={"from_trigger": True, "payload": {"campaign_id": d}},
                source_dag_id=None,
                timestamp=datetime.now(timezone.utc),
            ),
        ]
    }
    operator = TeardownCampaignsOperator(
        task_id="t", campaign_ids=[a], conf_key="campaign_ids", asset_event_key="campaign_ids"
    )

    report = operator.execute(context(conf={"campaign_ids": [b, a]}, events=events))

    assert [x["campaign_id"] for x in report["campaigns"]] == [a, b, c, d]
    assert sandbox.admin.campaigns()["liveCount"] == 0


def test_a_bad_id_fails_the_task_without_retries_before_any_call(sandbox: SandboxServer) -> None:
    from airflow_campaign_provider._compat import AirflowFailException

    operator = TeardownCampaignsOperator(task_id="t", conf_key="campaign_ids")

    with pytest.raises(AirflowFailException, match=r"Task t: .*dag_run\.conf\.campaign_ids\[1\]"):
        operator.execute(context(conf={"campaign_ids": ["cd-1", "cd-1/../cd-2"]}))
    assert sandbox.admin.requests() == []


def test_a_few_ids_in_a_long_list_are_read_one_by_one(sandbox: SandboxServer) -> None:
    sandbox.admin.seed_many(1000, {"status": "Completed"})
    from airflow_campaign_provider.hooks.campaign import CampaignHook

    # two campaigns on no first page, oldest or newest first (campaigns seeded in one second
    # tie on createdAt, and the server orders ties by id: the seeding order tells nothing)
    hook = CampaignHook()
    first_pages = {
        str(campaign_id_of(c))
        for newest_first in (False, True)
        for c in hook.list_campaigns_page("sms", None, 1, PAGE_SIZE, newest_first=newest_first).results
    }
    listed = [str(c["id"]) for c in sandbox.admin.campaigns()["campaigns"]]
    hidden = [campaign_id for campaign_id in listed if campaign_id not in first_pages][500:502]
    sandbox.admin.clear_requests()

    report = teardown_campaigns(hook, [hidden[0], GONE, hidden[1]])

    # one page shows 10 are listed; 2 ids left of 3 is fewer than 9 more pages: a status read each
    assert report.counts() == {"deleted": 2, "already_gone": 1}
    assert Counter(request_kind(r) for r in sandbox.admin.requests()) == {"list": 1, "status": 3, "delete": 2}


def test_a_campaign_kore_refuses_to_stop_is_reported_failed_and_the_rest_go_on(
    sandbox: SandboxServer,
) -> None:
    ids = seed_mix(sandbox, active=1, completed=1, stopped=0, ready=0)
    stuck = ids["Active"][0]
    sandbox.admin.force_status(stuck, "Paused")  # listed Paused; the real campaign is Active

    with (
        mock.patch.object(
            hook_module.CampaignHook,
            "stop_campaign",
            side_effect=CampaignValidationError("stop refused", status_code=412, method="POST", path="/x"),
        ),
        pytest.raises(TeardownIncompleteError, match="Kore refused to stop it while Paused") as raised,
    ):
        teardown_campaigns(hook_module.CampaignHook(), [stuck, ids["Completed"][0]])

    assert raised.value.report.counts() == {"failed": 1, "deleted": 1}
    assert [c["id"] for c in sandbox.admin.campaigns()["campaigns"]] == [stuck]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "every campaign of the account would be taken"),
        ({"campaign_ids": ["cd-1"], "statuses": ["Completed"]}, "not both"),
        ({"conf_key": ""}, "conf_key"),
        ({"conf_key": "ids", "max_workers": 0}, "max_workers"),
    ],
)
def test_bad_arguments_are_refused_when_the_dag_is_parsed(arguments: dict[str, Any], message: str) -> None:
    from airflow_campaign_provider.exceptions import CampaignArgumentsError

    with pytest.raises(CampaignArgumentsError, match=message):
        TeardownCampaignsOperator(task_id="t", **arguments)


def test_a_bad_filter_is_refused_naming_each_criterion() -> None:
    from airflow_campaign_provider.exceptions import CampaignArgumentsError

    with pytest.raises(CampaignArgumentsError) as raised:
        CampaignFilter.of(["Done"], " ", "2025-01-01T00:00:00")
    assert [field for field, _ in raised.value.problems] == ["statuses", "name_pattern", "created_before"]


def test_the_default_connection_is_the_hook_s() -> None:
    assert hook_module.CampaignHook.default_conn_name == DEFAULT_CONN_ID


def test_a_filter_takes_one_status_given_as_a_string() -> None:
    assert CampaignFilter.of("Completed").statuses == ("Completed",)
