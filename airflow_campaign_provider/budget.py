"""The request budget of a Kore.ai account: one sliding window per account, shared or per process.

Kore allows an account 60 requests a minute, whichever process sends them. With a budget store
configured (a Redis URL: ``[kore_campaign] budget_store_url``, or the connection's
``extra.budget_store_url``) every Kore call of every process, the sync hook in Celery workers and
the async hook in triggerers alike, retries included, takes its slot from one moving window per
account held in Redis by the ``limits`` library (its moving-window strategy keeps the times of the
window's requests and admits a new one atomically). Without a store, each process keeps the same
window in its own memory, through the same library: the per-process budget.

A slot is taken when a request is about to be sent; the window is widened by ``slack`` seconds so
that a request slowed on its way to Kore, or a clock a little off between hosts, cannot make Kore
count more than the budget in its own window.

A 429 anywhere writes the pause it asks for (``Retry-After``, capped at ``max_pause_seconds``) into
the store, and every process reads it before it takes a slot. A store that does not answer within
``store_timeout_seconds`` either fails the call (``budget_store_down = fail``) or, by default,
falls back to the per-process budget with a warning, asking the store again one window later.

Importing this module is cheap: ``limits`` and ``redis`` are imported when a budget is built.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import weakref
from collections.abc import Callable, Generator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_campaign_provider import clock
from airflow_campaign_provider.exceptions import (
    CampaignBudgetStoreError,
    CampaignRateLimitError,
)
from airflow_campaign_provider.models.budget import (
    CONFIG_SECTION,
    BudgetSettings,
    StoreDownPolicy,
    redacted,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from limits import RateLimitItem

log = logging.getLogger(__name__)


# --- the budget ------------------------------------------------------------------------------


T = TypeVar("T")
#: A budget step: yields each store call (or its result), is sent its outcome, returns a ``T``.
Steps = Generator[Any, Any, T]


class _Budget:
    """What the sync and the async budget share: the window, its keys, pauses and store outages.

    Each step that talks to a store is written once, as a generator that yields every store call
    it makes: the sync budget hands back the call's result, the async one awaits it first.
    """

    def __init__(
        self,
        settings: BudgetSettings,
        base_url: str,
        account_id: str,
        storage: Callable[[], Any],
        *,
        limit_without_store: bool,
    ) -> None:
        self.settings = settings
        self.identifiers = (base_url, account_id)
        self.pause_key = f"KORE-BUDGET/pause/{base_url}/{account_id}"
        #: No store and no per-process window wanted: every slot is free, nothing is imported.
        self.unlimited = not settings.store_url and not limit_without_store
        self._redis: Any = None
        self._shared: Any = None
        if not self.unlimited:
            flavour = storage()
            self.item = _account_window(settings)
            self._store_errors = _store_errors()
            self._local = flavour.limiter(flavour.memory())
        if settings.store_url:
            url = settings.store_url.replace("redis+unix", "unix")
            self._redis = flavour.redis.Redis.from_url(url, **_redis_options(settings))
            self._shared = flavour.limiter(flavour.shared(url, self._redis.connection_pool))
        self._local_pause_until = 0.0
        self._store_back_at = 0.0
        self.sent = 0
        self.waited_seconds = 0.0
        self.store_failures = 0

    @property
    def shared(self) -> bool:
        """Whether the budget is kept in a store shared by every process."""
        return self._shared is not None

    def lower(self, requests: int) -> None:
        """Shrink the budget (two connections of one account declared different counts)."""
        if requests < self.settings.requests:
            self.settings = replace(self.settings, requests=requests)
            if not self.unlimited:
                self.item = _account_window(self.settings)

    def _use_store(self, now: float) -> bool:
        """Whether to ask the store now (not during a fallback, until it is due to be asked again)."""
        return self._shared is not None and now >= self._store_back_at

    def _try_steps(self) -> Steps[float | None]:
        """Take a slot (returns None) or say when one may be free (epoch seconds)."""
        if self.unlimited:
            return None
        now = clock.wall()
        if self._use_store(now):
            try:
                paused = (yield self._redis.zscore(self.pause_key, "until")) or 0.0
                if now < paused:
                    return float(paused)
                took = yield self._shared.hit(self.item, *self.identifiers)
                self._store_answered()
                if took:
                    return None
                return (yield self._shared.get_window_stats(self.item, *self.identifiers)).reset_time
            except self._store_errors as error:
                self._store_failed(error)
        if now < self._local_pause_until:
            return self._local_pause_until
        if (yield self._local.hit(self.item, *self.identifiers)):
            return None
        return (yield self._local.get_window_stats(self.item, *self.identifiers)).reset_time

    def _pause_steps(self, seconds: float | None) -> Steps[None]:
        """Pause this process, and every other one when the store answers."""
        wanted = self.settings.window_seconds / 4
        if seconds is not None and math.isfinite(seconds) and seconds >= 0:
            wanted = seconds
        until = clock.wall() + min(wanted, self.settings.max_pause_seconds)
        self._local_pause_until = max(self._local_pause_until, until)
        if self._use_store(clock.wall()):
            try:
                # GT: a shorter pause never cuts a longer one short; the key outlives any pause.
                yield self._redis.zadd(self.pause_key, {"until": until}, gt=True)
                yield self._redis.expire(self.pause_key, math.ceil(self.settings.max_pause_seconds) + 1)
            except self._store_errors as error:
                self._store_failed(error)

    def _store_failed(self, error: BaseException) -> None:
        """Fail the call, or start a fallback to the per-process budget, as the setting says."""
        url = redacted(self.settings.store_url or "")
        self.store_failures += 1
        if self.settings.on_store_down is StoreDownPolicy.FAIL:
            raise CampaignBudgetStoreError(
                f"the budget store {url} did not answer ({type(error).__name__}: {error}); "
                f"[{CONFIG_SECTION}] budget_store_down = fail, so no request is sent"
            ) from error
        window = self.settings.window_seconds
        self._store_back_at = clock.wall() + window
        log.warning(
            "The Kore.ai budget store %s did not answer (%s: %s): this process falls back to its own "
            "budget of %d requests per %ds and asks the store again in %ds.",
            url,
            type(error).__name__,
            error,
            self.settings.requests,
            window,
            window,
        )

    def _store_answered(self) -> None:
        if self._store_back_at:
            self._store_back_at = 0.0
            log.warning("The Kore.ai budget store %s answers again.", redacted(self.settings.store_url or ""))

    def _next_try(self, started: float, free_at: float) -> float:
        """Seconds to sleep before trying again; past the wait limit, the error a 429 would be."""
        now = clock.wall()
        deadline = started + self.settings.wait_limit
        if now >= deadline:
            raise CampaignRateLimitError(
                f"no room in the budget of {self.settings.requests} requests per "
                f"{self.settings.window_seconds}s within {self.settings.wait_limit:g}s"
            )
        # A little jitter, so that processes woken by the same free slot do not all race for it.
        return max(0.0, min(free_at, deadline) - now) + random.uniform(0.0, 0.02)

    def _took(self, started: float) -> None:
        self.sent += 1
        self.waited_seconds += clock.wall() - started


def _account_window(settings: BudgetSettings) -> RateLimitItem:
    """The moving window of an account, one key per account whatever budget a connection declares.

    (``limits`` names a key after the count too; connections of one account that declare
    different counts must still share one window, which then never holds more than the larger.)
    """
    from limits import RateLimitItemPerSecond

    class AccountWindow(RateLimitItemPerSecond):
        def key_for(self, *identifiers: str | int | float | bytes) -> str:
            return "/".join([self.namespace, *(str(part) for part in identifiers)])

    return AccountWindow(
        settings.requests, settings.window_seconds + settings.slack_seconds, namespace="KORE-BUDGET"
    )


def _store_errors() -> tuple[type[BaseException], ...]:
    import redis
    from limits.errors import StorageError

    return (StorageError, redis.RedisError, OSError)


def _redis_options(settings: BudgetSettings) -> dict[str, Any]:
    """Short timeouts and no hidden retries: a store that is down is known within the timeout."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    timeout = settings.store_timeout_seconds
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0)}


class _SyncStorage:
    """The synchronous flavour of ``limits`` and ``redis``."""

    def __init__(self) -> None:
        import redis
        from limits.storage import MemoryStorage, RedisStorage
        from limits.strategies import MovingWindowRateLimiter

        self.redis = redis
        self.limiter = MovingWindowRateLimiter
        self.memory = MemoryStorage
        self.shared = lambda url, pool: RedisStorage(url, connection_pool=pool, wrap_exceptions=True)


class _AsyncStorage:
    """The asyncio flavour of ``limits`` and ``redis``."""

    def __init__(self) -> None:
        import redis.asyncio
        from limits.aio.storage import MemoryStorage, RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter

        self.redis = redis.asyncio
        self.limiter = MovingWindowRateLimiter
        self.memory = MemoryStorage
        self.shared = lambda url, pool: RedisStorage(
            f"async+{url}", implementation="redispy", wrap_exceptions=True, connection_pool=pool
        )


def _run(steps: Steps[T]) -> T:
    """Drive a step generator whose store calls have already run: hand each result back."""
    result = None
    try:
        while True:
            result = steps.send(result)
    except StopIteration as done:
        return done.value


async def _arun(steps: Steps[T]) -> T:
    """Drive a step generator whose store calls are awaitables: await each, hand back its outcome."""
    result: Any = None
    error: Exception | None = None
    while True:
        try:
            call = steps.send(result) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value
        try:
            result, error = await call, None
        except Exception as failure:
            result, error = None, failure


class RequestBudget(_Budget):
    """The budget of synchronous senders (the hook in a worker); thread-safe."""

    def __init__(
        self, settings: BudgetSettings, base_url: str, account_id: str, *, limit_without_store: bool = True
    ) -> None:
        super().__init__(
            settings, base_url, account_id, _SyncStorage, limit_without_store=limit_without_store
        )

    def take(self) -> None:
        """Wait for a slot; bounded by the wait limit, then a ``CampaignRateLimitError``."""
        started = clock.wall()
        while (free_at := _run(self._try_steps())) is not None:
            clock.sleep(self._next_try(started, free_at))
        self._took(started)

    def pause(self, seconds: float | None) -> None:
        """Send nothing for ``seconds`` (capped), in every process when the budget is shared."""
        _run(self._pause_steps(seconds))

    @contextmanager
    def slot(self) -> Iterator[SlotAnswer]:
        """Take a slot for one exchange; a rate-limited answer noted on it pauses the budget."""
        self.take()
        answer = SlotAnswer()
        yield answer
        if answer.rate_limited:
            self.pause(answer.retry_after)


class AsyncRequestBudget(_Budget):
    """The budget of the coroutines of one event loop (the async hook in a triggerer)."""

    def __init__(
        self, settings: BudgetSettings, base_url: str, account_id: str, *, limit_without_store: bool = True
    ) -> None:
        super().__init__(
            settings, base_url, account_id, _AsyncStorage, limit_without_store=limit_without_store
        )

    async def take(self) -> None:
        """Wait for a slot; bounded by the wait limit, then a ``CampaignRateLimitError``."""
        started = clock.wall()
        while (free_at := await _arun(self._try_steps())) is not None:
            await clock.sleep_async(self._next_try(started, free_at))
        self._took(started)

    async def pause(self, seconds: float | None) -> None:
        """Send nothing for ``seconds`` (capped), in every process when the budget is shared."""
        await _arun(self._pause_steps(seconds))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[SlotAnswer]:
        """Take a slot for one exchange; a rate-limited answer noted on it pauses the budget."""
        await self.take()
        answer = SlotAnswer()
        yield answer
        if answer.rate_limited:
            await self.pause(answer.retry_after)

    async def aclose(self) -> None:
        """Close the store's connections (they belong to this event loop)."""
        if self._redis is not None:
            await self._redis.aclose()


class SlotAnswer:
    """What the sender learnt from the answer sent in a slot: whether Kore refused it for the rate."""

    rate_limited = False
    retry_after: float | None = None

    def note(self, status_code: int, headers: Mapping[str, str]) -> None:
        """Record a 429 and its ``Retry-After``; the slot pauses the budget when it closes."""
        if status_code == 429:
            from airflow_campaign_provider.api import retry_after_seconds

            self.rate_limited = True
            self.retry_after = retry_after_seconds(headers)


# --- one budget per account and process (or event loop) --------------------------------------

#: A budget per account and way of keeping it; its count is the smallest any connection declared.
BudgetKey = tuple[BudgetSettings, str, str, bool]
_SYNC_BUDGETS: dict[BudgetKey, RequestBudget] = {}
_SYNC_LOCK = threading.Lock()
_ASYNC_BUDGETS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[BudgetKey, AsyncRequestBudget]] = (
    weakref.WeakKeyDictionary()
)
B = TypeVar("B", bound=_Budget)


def _one_per_account(
    budgets: dict[BudgetKey, B],
    settings: BudgetSettings,
    base_url: str,
    account_id: str,
    kind: bool,
    make: Callable[[], B],
) -> B:
    key = (replace(settings, requests=1), base_url, account_id, kind)
    budget = budgets.get(key)
    if budget is None:
        budget = budgets[key] = make()
    else:
        budget.lower(settings.requests)
    return budget


def budget_for(
    settings: BudgetSettings, base_url: str, account_id: str, *, limit_without_store: bool = True
) -> RequestBudget:
    """This process's budget of the account: every hook of the account shares it.

    ``limit_without_store=False`` leaves the calls unlimited when no store is configured (the sync
    hook, as before shared budgets existed); a store that is down still falls back to a window.
    """
    with _SYNC_LOCK:
        return _one_per_account(
            _SYNC_BUDGETS,
            settings,
            base_url,
            account_id,
            limit_without_store,
            lambda: RequestBudget(settings, base_url, account_id, limit_without_store=limit_without_store),
        )


def async_budget_for(settings: BudgetSettings, base_url: str, account_id: str) -> AsyncRequestBudget:
    """The running event loop's budget of the account: every coroutine of the account shares it."""
    budgets = _ASYNC_BUDGETS.setdefault(asyncio.get_running_loop(), {})
    return _one_per_account(
        budgets,
        settings,
        base_url,
        account_id,
        True,
        lambda: AsyncRequestBudget(settings, base_url, account_id),
    )
