"""CampaignAsyncHook: the asyncio twin of CampaignHook for triggers, over ``httpx.AsyncClient``.

Requests, auth, answers, errors and retries come from :mod:`airflow_campaign_provider.api`, the
same as for the synchronous hook: only the sending differs. The connection is read with
common-compat's async-safe helpers, never with the blocking lookup, so the triggerer's event loop
never stalls. :class:`TokenBucket` lets every coroutine of one event loop share an account's
request budget. Importing this module creates no client and does no I/O.
"""

from __future__ import annotations

import asyncio
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

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable

    import httpx

    from airflow_campaign_provider.models.connection import KoreConnectionSettings
    from airflow_campaign_provider.triggers.budget import TokenBucket

    #: A budget, or how to find the account's budget once the connection is read.
    Budget = TokenBucket | Callable[[KoreConnectionSettings], TokenBucket]


async def _sleep(seconds: float) -> None:
    """Back-off sleep; a seam tests replace so retries cost no wall time."""
    await asyncio.sleep(seconds)


class CampaignAsyncHook(CampaignHookBase):
    """
    Read Kore.ai campaigns from asyncio code (triggers): status views and list pages.

    Same auth, requests, error types and retry policy as :class:`CampaignHook`; a 401 re-mints the
    token once; every minted token is masked with ``amask_secret``. With a :class:`TokenBucket`
    every send, retries included, waits for a token, and a rate-limited answer pauses the bucket.

    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    :param timeout: Connect and read timeouts in seconds, or one number for both.
    :param retry_policy: What is retried and how long to wait; see :class:`RetryPolicy`.
    :param budget: The shared request budget of the account, if any: a bucket, or a function
        that gives the account's bucket for the connection's settings once they are read.
    :param stream_id: Use this bot/stream id instead of the connection's ``extra.stream_id``.
    :param max_connections: Size of the connection pool (one client per hook: creating an
        ``httpx.AsyncClient`` loads the CA bundle, about 40 ms and 0.8 MB, so share hooks).
    """

    def __init__(
        self,
        kore_conn_id: str = CampaignHookBase.default_conn_name,
        *,
        budget: Budget | None = None,
        max_connections: int = 16,
        **kwargs: Any,
    ) -> None:
        super().__init__(kore_conn_id, **kwargs)
        self._budget = budget
        self.budget: TokenBucket | None = None  # known once the connection is read
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
        settings = self.settings_of(conn, await get_async_extra_dejson(conn))
        await amask_secret(settings.client_secret)
        self.budget = self._budget(settings) if callable(self._budget) else self._budget
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
