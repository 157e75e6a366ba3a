"""CampaignAsyncHook: the asyncio twin of CampaignHook for triggers, over ``httpx.AsyncClient``.

Requests, auth, answers, errors and retries come from :mod:`airflow_campaign_provider.api`, the
same as for the synchronous hook: only the sending differs. The connection is read with
common-compat's async-safe helpers, never with the blocking lookup, so the triggerer's event loop
never stalls. :class:`TokenBucket` lets every coroutine of one event loop share an account's
request budget. Importing this module creates no client and does no I/O.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.api import (
    TOKEN_REFUSED_LOG,
    ApiAnswer,
    ApiRequest,
    CampaignPage,
    CampaignRequests,
    TokenMinter,
    parse_page,
    parse_status,
    read_answer,
    transport_error,
)
from airflow_campaign_provider.exceptions import CampaignRateLimitError
from airflow_campaign_provider.hooks.campaign import CampaignHookBase
from airflow_campaign_provider.models.connection import KoreConnectionSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable

    import httpx


async def _sleep(seconds: float) -> None:
    """Back-off sleep; a seam tests replace so retries cost no wall time."""
    await asyncio.sleep(seconds)


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


class TokenBucket:
    """At most ``capacity`` requests in any ``window_seconds``, shared by the coroutines of one loop.

    A token is taken before a request is sent and comes back one window after its answer arrived
    (or the send failed), not after it started: however slow the exchange, the server never sees
    more than ``capacity`` requests inside one window, whatever its clock. A burst of up to
    ``capacity`` requests is allowed. A rate-limited answer makes :meth:`hold` pause every sender,
    since the server's count evidently includes requests this bucket never saw.

    Bound: a sender waits at most ``max_wait_seconds`` for a token, then gets a
    ``CampaignRateLimitError``, which the retry policy treats like Kore's own 429.
    """

    def __init__(
        self,
        capacity: int,
        window_seconds: float = 60.0,
        *,
        max_wait_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity: must be at least 1, got {capacity}")
        if not window_seconds > 0:
            raise ValueError(f"window_seconds: must be positive, got {window_seconds}")
        self.capacity = capacity
        self.window_seconds = window_seconds
        self.max_wait_seconds = max_wait_seconds if max_wait_seconds is not None else 5 * window_seconds
        self._clock = clock
        self._returns: deque[float] = deque()  # when each spent token comes back, oldest first
        self._in_flight = 0
        self._hold_until = 0.0
        self._released = asyncio.Event()
        self.sent = 0
        self.waited_seconds = 0.0

    @property
    def in_use(self) -> int:
        """Tokens spent within the last window or held by a request still in flight."""
        self._forget_returned(self._clock())
        return self._in_flight + len(self._returns)

    def lower_capacity(self, capacity: int) -> None:
        """Shrink the budget (two connections of one account declared different budgets)."""
        self.capacity = max(1, min(self.capacity, capacity))

    def hold(self, seconds: float | None) -> None:
        """Send nothing for ``seconds`` (a quarter window when the server gave no ``Retry-After``)."""
        pause = self.window_seconds / 4 if seconds is None else max(0.0, seconds)
        self._hold_until = max(self._hold_until, self._clock() + pause)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one token around one HTTP exchange."""
        await self._take()
        try:
            yield
        finally:
            self._in_flight -= 1
            self._returns.append(self._clock() + self.window_seconds)
            self._released.set()
            self._released.clear()

    def _forget_returned(self, now: float) -> None:
        while self._returns and self._returns[0] <= now:
            self._returns.popleft()

    async def _take(self) -> None:
        started = self._clock()
        deadline = started + self.max_wait_seconds
        # Each pass takes a token, gives up at the deadline, or sleeps until a token returns, a
        # hold ends or an in-flight request finishes: bounded in time by the deadline.
        while True:
            now = self._clock()
            self._forget_returned(now)
            if now >= self._hold_until and self._in_flight + len(self._returns) < self.capacity:
                self._in_flight += 1
                self.sent += 1
                self.waited_seconds += now - started
                return
            if now >= deadline:
                raise CampaignRateLimitError(
                    f"no room in the budget of {self.capacity} requests per {self.window_seconds:g}s "
                    f"within {self.max_wait_seconds:g}s"
                )
            if now < self._hold_until:
                wake = self._hold_until
            elif self._returns:
                wake = self._returns[0]
            else:
                wake = deadline  # every token is in flight: a release sets the event
            await wait_event(self._released, max(0.0, min(wake, deadline) - now))


class CampaignAsyncHook(CampaignHookBase):
    """
    Read Kore.ai campaigns from asyncio code (triggers): status views and list pages.

    Same auth, requests, error types and retry policy as :class:`CampaignHook`; a 401 re-mints the
    token once; every minted token is masked with ``amask_secret``. With a :class:`TokenBucket`
    every send, retries included, waits for a token, and a rate-limited answer pauses the bucket.

    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    :param timeout: Connect and read timeouts in seconds, or one number for both.
    :param retry_policy: What is retried and how long to wait; see :class:`RetryPolicy`.
    :param budget: The shared request budget of the account, if any.
    :param max_connections: Size of the connection pool (one client per hook: creating an
        ``httpx.AsyncClient`` loads the CA bundle, about 40 ms and 0.8 MB, so share hooks).
    """

    def __init__(
        self,
        kore_conn_id: str = CampaignHookBase.default_conn_name,
        *,
        budget: TokenBucket | None = None,
        max_connections: int = 16,
        **kwargs: Any,
    ) -> None:
        super().__init__(kore_conn_id, **kwargs)
        self.budget = budget
        self.max_connections = max_connections
        self._loaded: tuple[KoreConnectionSettings, CampaignRequests, TokenMinter] | None = None
        self._loading = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None

    # --- connection, auth, transport ----------------------------------------------------------

    async def get_settings(self) -> KoreConnectionSettings:
        """The validated connection, read once through the async-safe lookup."""
        return (await self._parts())[0]

    async def _parts(self) -> tuple[KoreConnectionSettings, CampaignRequests, TokenMinter]:
        if self._loaded is None:
            async with self._loading:  # many coroutines may share a hook: one reads the connection
                if self._loaded is None:
                    self._loaded = await self._load()
        return self._loaded

    async def _load(self) -> tuple[KoreConnectionSettings, CampaignRequests, TokenMinter]:
        from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson
        from airflow.sdk.log import amask_secret

        conn = await get_async_connection(self.kore_conn_id, hook=self)
        extra = await get_async_extra_dejson(conn)
        settings = KoreConnectionSettings.from_connection(
            host=conn.host, port=conn.port, login=conn.login, password=conn.password, extra=extra
        )
        await amask_secret(settings.client_secret)
        return settings, CampaignRequests(settings), TokenMinter(settings)

    def _http(self) -> httpx.AsyncClient:
        """The pooled client of this hook, created on first use inside the running loop."""
        if self._client is None:
            import httpx

            connect, read = self.timeout if isinstance(self.timeout, tuple) else (self.timeout,) * 2
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(read, connect=connect),
                limits=httpx.Limits(
                    max_connections=self.max_connections, max_keepalive_connections=self.max_connections
                ),
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        """Close pooled connections; the hook can still be used afterwards."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _token(self, tokens: TokenMinter) -> str:
        token, minted = tokens.token()
        if minted:
            from airflow.sdk.log import amask_secret

            await amask_secret(token)
        return token

    async def _send(self, request: ApiRequest) -> httpx.Response:
        """One HTTP exchange inside a budget slot; transport failures become typed errors."""
        import httpx

        _, api, tokens = await self._parts()
        async with self._budget_slot():
            arguments = api.send_arguments(request, await self._token(tokens))
            try:
                return await self._http().request(**arguments)
            except httpx.TransportError as error:
                never_connected = isinstance(
                    error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
                )
                raise transport_error(request, error, sent=not never_connected) from error

    @asynccontextmanager
    async def _budget_slot(self) -> AsyncIterator[None]:
        if self.budget is None:
            yield
        else:
            async with self.budget.slot():
                yield

    async def _attempt(self, request: ApiRequest) -> ApiAnswer:
        """Send once, re-minting the token and resending once if Kore answers 401."""
        tokens = (await self._parts())[2]
        response = await self._send(request)
        if tokens.refused(response.status_code):
            self.log.info(TOKEN_REFUSED_LOG, request.description)
            response = await self._send(request)
        try:
            return read_answer(request, response.status_code, response.text, response.headers)
        except CampaignRateLimitError as error:
            if self.budget is not None:
                self.budget.hold(error.retry_after)
            raise

    async def run(self, request: ApiRequest) -> ApiAnswer:
        """Send ``request`` under the retry policy and return Kore's 2xx answer, or raise a typed error.

        A retrier per call: tenacity keeps its attempt state per thread, which concurrent
        coroutines would share.
        """
        import tenacity

        retrying = tenacity.AsyncRetrying(
            sleep=_sleep, **self.retry_policy.tenacity_arguments(request, self._log_retry)
        )
        return await retrying(self._attempt, request)

    # --- campaign reads -----------------------------------------------------------------------

    async def get_campaign_status(self, campaign_id: str) -> str:
        """The campaign's status through the light ``view=status`` call."""
        api = (await self._parts())[1]
        return parse_status(await self.run(api.get_campaign_status(campaign_id)))

    async def list_campaigns_page(
        self,
        campaign_type: str = "sms",
        statuses: Iterable[str] | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> CampaignPage:
        """One page of campaigns, optionally filtered by status."""
        api = (await self._parts())[1]
        return parse_page(await self.run(api.list_campaigns(campaign_type, statuses, page, page_size)))
