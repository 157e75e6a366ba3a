"""The shared poller over a mocked account: few calls for many waits, every edge ends every wait.

On the virtual clock: the schedule of every cycle, and so every count below, is the same on any
machine, however loaded."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from airflow_campaign_provider.triggers.campaign import CampaignStatusTrigger
from airflow_campaign_provider.triggers.poller import PollerRegistry, SharedPoller
from tests.hooks.conftest import connection_json

from .conftest import FakeAccount, fire, now, start

pytestmark = pytest.mark.virtual_clock


def loop_time() -> float:
    return asyncio.get_running_loop().time()


def ids(prefix: str, count: int) -> list[str]:
    return [f"cd-{prefix}-{n:04d}" for n in range(count)]


async def cycles(registry: PollerRegistry, count: int) -> None:
    """Wait (at most 10 s of the test's clock) until the one poller has run ``count`` cycles."""
    for _ in range(1000):
        if registry.pollers() and registry.pollers()[0].cycles >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the poller did not run {count} cycles")


async def later(seconds: float, account: FakeAccount, campaign_ids: list[str], status: str) -> None:
    await asyncio.sleep(seconds)
    account.set(campaign_ids, status)


async def test_200_waiters_are_woken_with_far_fewer_calls_than_waiters(registry, account):
    waited = ids("w", 200)
    account.add(waited, "Active")
    account.add(ids("other", 40), "Active")
    account.add(ids("old", 60), "Completed")
    events = start(waited)
    await asyncio.gather(
        later(0.25, account, waited[:100], "Completed"), later(0.45, account, waited[100:], "Completed")
    )
    results = await asyncio.wait_for(events, 10)

    assert [event["status"] for event in results] == ["success"] * 200
    assert len(account.calls) <= 20, account.calls
    assert account.count("status") == 0


async def test_few_waiters_among_many_alike_campaigns_read_their_statuses_one_by_one(registry, account):
    waited = ids("w", 2)
    account.add(ids("busy", 3000), "Active")
    account.add(waited, "Active")
    events = start(waited)
    await cycles(registry, 6)
    account.set(waited, "Completed")
    results = await asyncio.wait_for(events, 10)

    assert [event["status"] for event in results] == ["success"] * 2
    # One probe per filter (every status; where the campaigns are and go; where they are)
    # taught the poller that any list costs 31 pages: from then on, two status calls a cycle.
    assert account.count("list") <= 3, [call[1:] for call in account.calls]
    assert account.count("status") >= 2 * 6


async def test_a_cheap_narrow_scan_beats_status_calls_even_for_two_waiters(registry, account):
    waited = ids("w", 2)
    account.add(waited, "Active")
    account.add(ids("old", 3000), "Completed")
    events = start(waited)
    await cycles(registry, 4)
    cycles_so_far = len(account.calls)
    account.set(waited, "Completed")
    results = await asyncio.wait_for(events, 10)

    assert [event["status"] for event in results] == ["success"] * 2
    lists = [call[2] for call in account.calls[:cycles_so_far] if call[1] == "list"]
    assert lists[-1] == ["Active"]  # one page tells both statuses: cheaper than two status calls
    assert account.count("status") <= 2  # the two completions are read one by one


async def test_a_large_history_makes_the_poller_scan_only_where_the_campaigns_are(registry, account):
    waited = ids("w", 150)
    account.add(waited, "Active")
    account.add(ids("old", 5000), "Completed")
    events = start(waited)
    await cycles(registry, 4)
    before = len(account.calls)
    await cycles(registry, 7)
    steady = account.calls[before:]
    account.set(waited[:5], "Completed")
    await later(0.4, account, waited[5:], "Completed")
    results = await asyncio.wait_for(events, 10)

    assert [event["status"] for event in results] == ["success"] * 150
    # Once learnt, a quiet cycle reads the 150 Active campaigns in two pages, not 52 or 150 calls.
    assert [call[2] for call in steady] == [["Active"]] * len(steady)
    assert len(steady) <= 2 * 4
    # No campaign needed more than its first-cycle fallback and its completion.
    statuses = [call[2] for call in account.calls if call[1] == "status"]
    assert max(statuses.count(cid) for cid in set(statuses)) <= 2


async def test_a_server_that_caps_pages_lower_is_followed(registry, account):
    waited = ids("w", 250)
    account.add(waited, "Active")
    account.max_page_size = 40
    events = start(waited)
    await cycles(registry, 2)
    account.set(waited, "Completed")
    results = await asyncio.wait_for(events, 10)

    assert [event["status"] for event in results] == ["success"] * 250
    assert account.count("status") == 0  # every campaign was found in the 40-campaign pages


async def test_a_campaign_in_no_page_falls_back_to_its_status_call_and_a_404_fails_it(registry, account):
    waited = ids("w", 10)
    account.add(waited, "Active")
    events = start(waited)
    await asyncio.sleep(0.25)
    del account.campaigns[waited[3]]
    await later(0.2, account, [cid for cid in waited if cid != waited[3]], "Completed")
    results = await asyncio.wait_for(events, 10)

    assert [event["status"] for event in results] == ["success"] * 3 + ["failure"] + ["success"] * 6
    assert results[3]["campaign_status"] is None
    assert "404" in results[3]["message"]
    assert [call[2] for call in account.calls if call[1] == "status"] == [waited[3]]


async def test_a_list_the_server_refuses_is_given_up_for_status_calls(registry, account, caplog):
    waited = ids("w", 5)
    account.add(waited, "Active")
    account.list_error = httpx.Response(412, json={"errors": [{"msg": "filters: unknown"}]})
    events = start(waited)
    await later(0.3, account, waited, "Completed")
    results = await asyncio.wait_for(events, 10)

    assert [event["status"] for event in results] == ["success"] * 5
    assert account.count("list") == 1
    assert "reading sms statuses one by one" in caplog.text


async def test_list_errors_past_the_retry_policy_end_the_due_waits_with_errors(registry, account):
    waited = ids("w", 30)
    account.add(waited, "Active")
    account.list_error = httpx.Response(503, text="maintenance")
    results = await asyncio.wait_for(start(waited), 10)

    assert {event["status"] for event in results} == {"error"}
    assert all("503" in event["message"] for event in results)
    assert account.count("list") == registry.options.retry_policy.max_attempts


async def test_an_unexpected_failure_in_the_poller_ends_every_wait_with_an_error(
    registry, account, monkeypatch
):
    waited = ids("w", 20)
    account.add(waited, "Active")

    def broken(*args: Any) -> None:
        raise RuntimeError("planner bug")

    monkeypatch.setattr(SharedPoller, "_plan", broken)
    results = await asyncio.wait_for(start(waited), 10)
    assert {event["status"] for event in results} == {"error"}
    assert all("RuntimeError: planner bug" in event["message"] for event in results)


async def test_waiters_joining_and_leaving_mid_cycle(registry, account):
    first = ids("a", 3)
    account.add(first, "Active")
    account.add("cd-late", "Active")
    account.delay = 0.15  # every answer takes a while: joins and leaves land inside cycles
    leaving = asyncio.ensure_future(fire(CampaignStatusTrigger(first[0], ["Completed"], poll_interval=0.1)))
    staying = start(first[1:])
    await asyncio.sleep(0.17)  # the first cycle is in flight
    leaving.cancel()
    joining = start(["cd-late"])
    await later(0.1, account, [*first, "cd-late"], "Completed")
    results = await asyncio.wait_for(asyncio.gather(staying, joining), 10)

    assert [event["status"] for group in results for event in group] == ["success"] * 3
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_one_waiters_deadline_leaves_the_others_waiting(registry, account):
    waited = ids("w", 5)
    account.add(waited, "Active")
    short = start(waited[:1], end_time=now() + 0.3)
    long = start(waited[1:])
    assert [event["status"] for event in await asyncio.wait_for(short, 5)] == ["timeout"]
    assert [p.waiters for p in registry.pollers()] == [4]
    await later(0.1, account, waited, "Completed")
    assert [event["status"] for event in await asyncio.wait_for(long, 5)] == ["success"] * 4


async def test_the_smallest_poll_interval_drives_a_shared_scan(registry, account):
    slow, fast = ids("slow", 20), ids("fast", 1)
    account.add(slow + fast, "Active")
    slow_events = start(slow, poll_interval=30.0)
    fast_events = start(fast, poll_interval=0.1)
    await asyncio.sleep(0.05)
    await later(0.3, account, slow + fast, "Completed")
    changed = loop_time()
    results = await asyncio.wait_for(asyncio.gather(slow_events, fast_events), 5)

    # Everyone learnt it at the fast waiter's next cycle, not after the slow waiters' own 30 s.
    assert loop_time() - changed <= 0.1
    assert [event["status"] for group in results for event in group] == ["success"] * 21


async def test_the_whole_process_stays_inside_the_account_budget(registry, account, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json(extra={"requests_per_minute": 8})
    )
    waited = ids("w", 30)
    account.add(waited, "Active")
    account.add(ids("old", 5000), "Completed")
    began = loop_time()
    events = start(waited, poll_interval=0.05, end_time=now() + 2.5)
    await cycles(registry, 1)
    (poller,) = registry.pollers()
    (bucket,) = registry.budgets()
    assert poller.hook.budget is bucket  # every request of the poller takes a slot of the account's
    results = await asyncio.wait_for(events, 10)

    assert {event["status"] for event in results} == {"timeout"}
    times = [at - began for at, _, _ in account.calls]
    assert bucket.sent == len(times)
    # One narrow page a cycle, every 0.05 s, until the 8 slots are spent; each comes back a
    # window plus its slack (1 s + 1 s) after it was taken, so the next 8 run from 2.05 s (plus
    # the budget's jitter of at most 20 ms), until the deadline at 2.5 s: never a 9th request
    # inside any window Kore counts.
    sent_ms = [round(at * 1000) for at in times]
    assert sent_ms[:8] == [50 * (n + 1) for n in range(8)]
    jitter = sent_ms[8] - 2050
    assert 0 <= jitter <= 20
    assert sent_ms[8:] == [2050 + jitter + 50 * n for n in range(8)]
    assert max(sum(1 for other in sent_ms if at - 2000 < other <= at) for at in sent_ms) == 8


async def test_connections_of_one_account_share_one_budget(registry, account, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SECOND", connection_json(extra={"requests_per_minute": 30}))
    account.add(["cd-1", "cd-2"], "Active")
    events = asyncio.gather(
        fire(CampaignStatusTrigger("cd-1", "Completed", poll_interval=0.05)),
        fire(CampaignStatusTrigger("cd-2", "Completed", kore_conn_id="second", poll_interval=0.05)),
    )
    await asyncio.sleep(0.2)
    assert len(registry.pollers()) == 2
    (budget,) = registry.budgets()
    assert budget.settings.requests == 30
    account.set(["cd-1", "cd-2"], "Completed")
    assert [event["status"] for event in await asyncio.wait_for(events, 5)] == ["success"] * 2


async def test_the_poller_goes_with_its_last_waiter_and_comes_back_on_demand(registry, account):
    account.add(["cd-1"], "Completed")
    assert (await fire(CampaignStatusTrigger("cd-1", "Completed", poll_interval=0.05)))["status"] == "success"
    await asyncio.sleep(0)
    assert registry.pollers() == []
    assert (await fire(CampaignStatusTrigger("cd-1", "Completed", poll_interval=0.05)))["status"] == "success"
    # Two pollers, one after the other, each read the status once.
    assert [(kind, detail) for _, kind, detail in account.calls] == [("status", "cd-1"), ("status", "cd-1")]
