"""One poller per connection and event loop that reads campaign statuses for every waiting trigger.

Kore allows an account 60 requests a minute; a triggerer running one poll per waiting campaign
breaks that at 60 waits. Here every :class:`CampaignStatusTrigger` of one triggerer (one event
loop) that uses the same connection joins one :class:`SharedPoller`, and every poller of the
same account sends through one :class:`~airflow_campaign_provider.budget.AsyncRequestBudget`,
so the whole process stays inside the account's budget (the connection's ``requests_per_minute``,
by default 60, per budget window), and with a budget store every process of the account does.

A cycle runs as soon as any waiter is due (each waiter is due one ``poll_interval`` after it
joined or was last checked, so the poller runs at the smallest interval among its waiters, never
faster than the budget lets it). For each campaign type it reads the statuses of the due
campaigns the cheapest way it knows:

* a scan of the list endpoint filtered by the statuses the waiters care about: where their
  campaigns were last seen and where they are going (``wide``), or only where they were last seen
  (``narrow``, cheaper when the account holds many finished campaigns; each campaign missing from
  it has changed and costs a status call). A scan updates every waiter whose campaign it finds;
* or one ``view=status`` call per due campaign, when that costs fewer calls.

Page counts are learnt from ``totalResults`` (an unknown filter is assumed to cost one page), and a
scan stops early when its remaining pages would cost more than asking for the campaigns it has
not found yet. A due campaign in no page falls back to its status call; a 404 there ends its
waits with a failure. A call that still fails after the retry policy (by default 6 attempts and
at most 5 minutes of back-off) ends the waits that needed it with an error; if the list endpoint
refuses the request outright, the poller reads statuses one by one from then on. Anything else
that breaks the poller ends every wait with an error, never leaves one hanging.

Waiters wait in their own trigger's coroutine (so status changes are logged in that task's log),
own their deadline, and leave on any exit, cancellation included; the poller is torn down when
its last waiter leaves. Everything runs on the triggerer's event loop: no threads.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import math
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import MAX_LIST_PAGES, RetryPolicy, campaign_id_of
from airflow_campaign_provider.budget import AsyncRequestBudget, BudgetSettings, async_budget_for
from airflow_campaign_provider.exceptions import (
    CampaignError,
    CampaignNotFoundError,
    CampaignResponseError,
    CampaignValidationError,
)
from airflow_campaign_provider.hooks.base import DEFAULT_TIMEOUT
from airflow_campaign_provider.hooks.campaign_async import CampaignAsyncHook
from airflow_campaign_provider.status import NON_TERMINAL_STATUSES, WaitOutcome

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from airflow_campaign_provider.models.connection import KoreConnectionSettings
    from airflow_campaign_provider.status import WaitGoal

log = logging.getLogger(__name__)

#: How many learnt page counts a poller keeps.
MAX_REMEMBERED_TOTALS = 64


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until ``event`` is set (True) or ``timeout`` seconds pass (False).

    Unlike ``asyncio.wait_for`` before Python 3.12, it never swallows a cancellation that
    arrives just as the event is set: a cancelled trigger or poller really stops.
    """
    if event.is_set():
        return True
    waiting = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiting}, timeout=timeout)
    finally:
        waiting.cancel()
    return bool(done)


@dataclass(frozen=True)
class PollerOptions:
    """Process-wide settings of the shared pollers of one event loop.

    :param budget_window_seconds: The window of the account budget in whole seconds, instead of
        ``[kore_campaign] budget_window_seconds``; tests and benchmarks shrink it to scale time.
    :param page_size: Campaigns per list page (Kore's pages hold at most 100, we believe; a
        server that caps lower is detected on the first page).
    :param status_concurrency: Status calls in flight at once in one cycle.
    :param batch_fraction: A waiter due within this fraction of its interval joins the cycle.
    :param retry_policy: Retries of each call, unless the waiting task's ``hook_params`` say;
        see :class:`RetryPolicy`.
    :param timeout: Connect and read timeouts of each call, unless the task's ``hook_params`` say.
    """

    budget_window_seconds: float | None = None
    page_size: int = 100
    status_concurrency: int = 8
    batch_fraction: float = 0.1
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: tuple[float, float] = DEFAULT_TIMEOUT


@dataclass(eq=False)
class Waiter:
    """One trigger waiting on one campaign; written by the poller, read by the trigger."""

    campaign_id: str
    campaign_type: str
    goal: WaitGoal
    poll_interval: float
    next_check: float
    status: str | None = None
    outcome: WaitOutcome | None = None
    changes: list[str] = field(default_factory=list)
    signal: asyncio.Event = field(default_factory=asyncio.Event)

    def observe(self, status: str) -> None:
        """Record a status read from Kore; finish when it ends the wait."""
        if status != self.status:
            self.status = status
            self.changes.append(status)
            self.signal.set()
        outcome = self.goal.judge(self.campaign_id, status)
        if outcome is not None:
            self.finish(outcome)

    def fail(self, error: BaseException | str) -> None:
        """End the wait: a 404 is a failure, anything else an error."""
        if isinstance(error, CampaignNotFoundError):
            self.finish(WaitOutcome.not_found(self.campaign_id))
        else:
            self.finish(WaitOutcome.error(self.campaign_id, error, self.status))

    def finish(self, outcome: WaitOutcome) -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.signal.set()

    def take_changes(self) -> list[str]:
        changes, self.changes = self.changes, []
        return changes


class SharedPoller:
    """Reads statuses for every waiter of one connection; see the module docstring."""

    def __init__(
        self,
        registry: PollerRegistry,
        kore_conn_id: str,
        stream_id: str | None = None,
        hook_params: str = "{}",
    ) -> None:
        self._registry = registry
        self._options = registry.options
        self.kore_conn_id = kore_conn_id
        self.stream_id = stream_id
        self.hook_params = hook_params
        # The registry's defaults, then what the waiting tasks' hook settings say.
        defaults = {"timeout": self._options.timeout, "retry_policy": self._options.retry_policy}
        self.hook = CampaignAsyncHook(
            kore_conn_id,
            stream_id=stream_id,
            budget=registry.budget_for,
            params={**defaults, **json.loads(hook_params)},
        )
        self._waiters: set[Waiter] = set()
        self._wakeup = asyncio.Event()
        self._page_size = self._options.page_size
        self._totals: OrderedDict[tuple[str, frozenset[str]], int] = OrderedDict()
        self._changed: dict[str, int] = {}
        self._list_refused: set[str] = set()
        self.cycles = 0
        # An empty context: the poller's own logs must not land in the log of the task whose
        # trigger happened to create it.
        loop = asyncio.get_running_loop()
        self._task = contextvars.Context().run(
            loop.create_task, self._run(), name=f"kore-campaign-poller:{kore_conn_id}:{stream_id or ''}"
        )

    @property
    def waiters(self) -> int:
        return len(self._waiters)

    def join(self, campaign_id: str, campaign_type: str, goal: WaitGoal, poll_interval: float) -> Waiter:
        """Add a waiter; its first check comes one ``poll_interval`` from now."""
        waiter = Waiter(campaign_id, campaign_type, goal, poll_interval, clock.monotonic() + poll_interval)
        self._waiters.add(waiter)
        self._wakeup.set()
        return waiter

    def leave(self, waiter: Waiter) -> None:
        """Remove a waiter; the last one to leave stops the poller."""
        self._waiters.discard(waiter)
        self._wakeup.set()
        if not self._waiters:
            self._registry.forget(self)
            self._task.cancel()

    # --- the loop -----------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self.hook.get_settings()  # a broken connection ends every wait at once
            # Runs while anyone waits; every waiter leaves by its deadline.
            while self._waiters:
                active = [waiter for waiter in self._waiters if waiter.outcome is None]
                delay = min(waiter.next_check for waiter in active) - clock.monotonic() if active else None
                if delay is None or delay > 0:
                    await self._nap(delay)
                else:
                    await self._cycle(active)
        except Exception as error:
            log.warning("Kore.ai campaign poller of %s failed: %s", self.kore_conn_id, error, exc_info=True)
            self._fail_all(error)
        finally:
            self._registry.forget(self)
            self._fail_all("the shared campaign poller stopped")
            await self.hook.aclose()

    async def _nap(self, seconds: float | None) -> None:
        """Sleep until ``seconds`` pass or a waiter joins or leaves."""
        self._wakeup.clear()
        await wait_event(self._wakeup, seconds)

    def _fail_all(self, error: BaseException | str) -> None:
        for waiter in self._waiters:
            if waiter.outcome is None:
                waiter.finish(WaitOutcome.error(waiter.campaign_id, error, waiter.status))

    async def _cycle(self, active: list[Waiter]) -> None:
        self.cycles += 1
        now = clock.monotonic()
        batch = self._options.batch_fraction
        due = [waiter for waiter in active if waiter.next_check <= now + batch * waiter.poll_interval]
        for campaign_type in sorted({waiter.campaign_type for waiter in due}):
            watched = [waiter for waiter in active if waiter.campaign_type == campaign_type]
            due_ids = {waiter.campaign_id for waiter in due if waiter.campaign_type == campaign_type}
            statuses, problems = await self._read(campaign_type, watched, due_ids)
            checked_at = clock.monotonic()
            # Campaigns that left a known status: what a narrow scan next time will miss.
            changed = {
                waiter.campaign_id
                for waiter in watched
                if waiter.status is not None
                and statuses.get(waiter.campaign_id, waiter.status) != waiter.status
            }
            self._changed[campaign_type] = len(changed)
            for waiter in watched:
                if waiter.outcome is not None or waiter not in self._waiters:
                    continue  # left, or ended by its deadline, while the cycle ran
                if waiter.campaign_id in problems:
                    waiter.fail(problems[waiter.campaign_id])
                elif waiter.campaign_id in statuses:
                    waiter.observe(statuses[waiter.campaign_id])
                if waiter.campaign_id in statuses or waiter.campaign_id in due_ids:
                    waiter.next_check = checked_at + waiter.poll_interval  # never polled again at once

    # --- reading statuses ---------------------------------------------------------------------

    async def _read(
        self, campaign_type: str, watched: list[Waiter], due_ids: set[str]
    ) -> tuple[dict[str, str], dict[str, BaseException]]:
        """Statuses of every due campaign (and of any other watched one a scan finds), or why not.

        At most two scans (a narrow one whose misses make a wide one cheaper than their status
        calls), then one status call per due campaign still missing.
        """
        statuses: dict[str, str] = {}
        scanned: set[frozenset[str]] = set()
        for _ in range(2):
            missing = due_ids - statuses.keys()
            scan_filter = self._plan(campaign_type, watched, missing, scanned)
            if scan_filter is None:
                break
            scanned.add(scan_filter)
            try:
                statuses.update(await self._scan(campaign_type, scan_filter, missing))
            except (CampaignValidationError, CampaignNotFoundError, CampaignResponseError) as error:
                log.warning(
                    "Kore.ai refused the campaign list of %s (%s); reading %s statuses one by one from now on.",
                    self.kore_conn_id,
                    error,
                    campaign_type,
                )
                self._list_refused.add(campaign_type)
                break
            except CampaignError as error:
                return statuses, dict.fromkeys(due_ids - statuses.keys(), error)
        read, problems = await self._status_calls(sorted(due_ids - statuses.keys()))
        statuses.update(read)
        return statuses, problems

    def _plan(
        self, campaign_type: str, watched: list[Waiter], due_ids: set[str], scanned: set[frozenset[str]]
    ) -> frozenset[str] | None:
        """The status filter of the cheapest scan not yet made, or None when status calls cost less.

        On a tie a scan wins if it also refreshes campaigns that are not due: the same calls, more news.
        """
        due = len(due_ids)
        if due == 0 or campaign_type in self._list_refused:
            return None
        seen = frozenset(waiter.status for waiter in watched if waiter.status is not None)
        unknown = any(waiter.status is None for waiter in watched)
        goals = frozenset().union(*(waiter.goal.watched for waiter in watched))
        wide = seen | goals | (NON_TERMINAL_STATUSES if unknown else frozenset())
        options = [(self._pages(campaign_type, wide), wide)]
        if seen and not unknown and seen != wide:
            options.append((self._pages(campaign_type, seen) + self._changed.get(campaign_type, 0), seen))
        options = [option for option in options if option[1] not in scanned]
        if not options:
            return None
        cost, cheapest = min(options, key=lambda option: option[0])
        covers_more = len({waiter.campaign_id for waiter in watched}) > due
        return cheapest if cost < due or (covers_more and cost == due) else None

    def _pages(self, campaign_type: str, statuses: frozenset[str]) -> int:
        total = self._totals.get((campaign_type, statuses))
        return 1 if total is None else max(1, math.ceil(total / self._page_size))

    def _remember_total(self, campaign_type: str, statuses: frozenset[str], total: int) -> None:
        key = (campaign_type, statuses)
        self._totals[key] = total
        self._totals.move_to_end(key)
        while len(self._totals) > MAX_REMEMBERED_TOTALS:
            self._totals.popitem(last=False)

    async def _scan(self, campaign_type: str, statuses: frozenset[str], due_ids: set[str]) -> dict[str, str]:
        """Page through the list filtered by ``statuses``; stop when status calls would be cheaper."""
        found: dict[str, str] = {}
        page_size = self._page_size
        for page in range(1, MAX_LIST_PAGES + 1):
            result = await self.hook.list_campaigns_page(campaign_type, sorted(statuses), page, page_size)
            known = len(found)
            for campaign in result.results:
                campaign_id, status = campaign_id_of(campaign), campaign.get("status")
                if campaign_id and isinstance(status, str) and status:
                    found[campaign_id] = status
            if len(found) == known:
                break  # a page that adds nothing: the server keeps saying hasMore
            if page == 1:
                if result.total_results is not None:
                    self._remember_total(campaign_type, statuses, result.total_results)
                if result.has_more and 0 < len(result.results) < page_size:
                    # The server caps pages below our size: follow its size from page 2 on.
                    page_size = self._page_size = len(result.results)
            if not result.results or not result.has_more:
                break
            pages_left = result.total_pages - page if result.total_pages is not None else 1
            if pages_left <= 0 or pages_left >= len(due_ids - found.keys()):
                break
        return found

    async def _status_calls(self, campaign_ids: list[str]) -> tuple[dict[str, str], dict[str, BaseException]]:
        """One ``view=status`` call per campaign, a few at a time."""
        limit = asyncio.Semaphore(self._options.status_concurrency)

        async def read(campaign_id: str) -> str:
            async with limit:
                return await self.hook.get_campaign_status(campaign_id)

        results = await asyncio.gather(*(read(cid) for cid in campaign_ids), return_exceptions=True)
        statuses: dict[str, str] = {}
        problems: dict[str, BaseException] = {}
        for campaign_id, result in zip(campaign_ids, results, strict=True):
            if isinstance(result, str):
                statuses[campaign_id] = result
            elif isinstance(result, Exception):
                problems[campaign_id] = result
            else:
                raise result  # cancelled
        return statuses, problems


class PollerRegistry:
    """The shared pollers (by connection and stream) and request budgets (by account) of one event loop."""

    def __init__(self, options: PollerOptions | None = None) -> None:
        self.options = options or PollerOptions()
        self._pollers: dict[tuple[str, str | None, str], SharedPoller] = {}
        self._budgets: dict[tuple[str, str], AsyncRequestBudget] = {}

    def poller(
        self, kore_conn_id: str, stream_id: str | None = None, hook_params: Mapping[str, Any] | None = None
    ) -> SharedPoller:
        """The poller of the connection (and of ``stream_id`` instead of its own) with these hook
        settings (a task's ``hook_params``), started on first use."""
        key = (kore_conn_id, stream_id or None, json.dumps(hook_params or {}, sort_keys=True))
        poller = self._pollers.get(key)
        if poller is None:
            poller = self._pollers[key] = SharedPoller(self, *key)
        return poller

    def pollers(self) -> list[SharedPoller]:
        return list(self._pollers.values())

    def forget(self, poller: SharedPoller) -> None:
        key = (poller.kore_conn_id, poller.stream_id, poller.hook_params)
        if self._pollers.get(key) is poller:
            del self._pollers[key]

    def budget_for(self, settings: KoreConnectionSettings) -> AsyncRequestBudget:
        """The account's budget; it outlives pollers, so a new poller cannot overspend the window.

        Shared by every process of the account when a budget store is configured. Connections of
        one account that declare different budgets get the smallest.
        """
        budget = BudgetSettings.from_config(settings.requests_per_minute, settings.budget)
        if self.options.budget_window_seconds is not None:
            budget = replace(budget, window_seconds=max(1, round(self.options.budget_window_seconds)))
        shared = async_budget_for(budget, settings.base_url, settings.account_id)
        self._budgets[(settings.base_url, settings.account_id)] = shared
        return shared

    def budgets(self) -> list[AsyncRequestBudget]:
        return list(self._budgets.values())

    async def wait(
        self,
        *,
        kore_conn_id: str,
        campaign_id: str,
        campaign_type: str,
        goal: WaitGoal,
        poll_interval: float,
        end_time: float,
        on_change: Callable[[str], None],
        stream_id: str | None = None,
        hook_params: Mapping[str, Any] | None = None,
    ) -> WaitOutcome:
        """Wait until the campaign ends ``goal`` or ``end_time`` (epoch seconds) passes.

        ``on_change`` is called here, in the caller's coroutine, with every status change read;
        ``hook_params``: the waiting task's hook settings (see :class:`SharedPoller`'s hook).
        """
        poller = self.poller(kore_conn_id, stream_id, hook_params)
        waiter = poller.join(campaign_id, campaign_type, goal, poll_interval)
        try:
            # Each pass sleeps until the poller signals or the deadline: bounded by the deadline.
            while True:
                for status in waiter.take_changes():
                    on_change(status)
                if waiter.outcome is not None:
                    return waiter.outcome
                remaining = end_time - clock.wall()
                if remaining <= 0:
                    return goal.timed_out(campaign_id, waiter.status)
                waiter.signal.clear()
                await wait_event(waiter.signal, remaining)
        finally:
            poller.leave(waiter)


_REGISTRIES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PollerRegistry] = (
    weakref.WeakKeyDictionary()
)


def poller_registry() -> PollerRegistry:
    """The registry of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    registry = _REGISTRIES.get(loop)
    if registry is None:
        registry = _REGISTRIES[loop] = PollerRegistry()
    return registry
