"""CampaignAsyncHook: the asyncio twin of CampaignHook for triggers, over ``httpx.AsyncClient``.

Requests, auth, answers, errors and retries come from :mod:`airflow_campaign_provider.api`, the
same as for the synchronous hook: only the sending differs. The connection is read with
common-compat's async-safe helpers, never with the blocking lookup, so the triggerer's event loop
never stalls. Every send takes a slot of the account's request budget
(:mod:`airflow_campaign_provider.budget`). Importing this module creates no client and does no I/O.
"""

from __future__ import annotations

import asyncio
import ssl
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import (
    READ_CHUNK_BYTES,
    TOKEN_REFUSED_LOG,
    AnswerBody,
    ApiAnswer,
    ApiRequest,
    CampaignPage,
    CampaignRequests,
    TokenMinter,
    attempt_timeout,
    parse_page,
    parse_status,
    read_answer,
    tls_failure,
    transport_error,
    url_failure,
)
from airflow_campaign_provider.budget import AsyncRequestBudget, BudgetSettings, async_budget_for
from airflow_campaign_provider.hooks.base import CampaignHookBase

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Mapping

    import httpx

    from airflow_campaign_provider.budget import SlotAnswer
    from airflow_campaign_provider.models.connection import KoreConnectionSettings

    #: A budget, or how to find the account's budget once the connection is read.
    Budget = AsyncRequestBudget | Callable[[KoreConnectionSettings], AsyncRequestBudget]


def _caused_by_tls(error: BaseException) -> bool:
    """Whether a TLS error (``ssl.SSLError``) is anywhere in the chain of causes of ``error``."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class CampaignAsyncHook(CampaignHookBase):
    """
    Read Kore.ai campaigns from asyncio code (triggers): status views and list pages.

    Same auth, requests, error types and retry policy as :class:`CampaignHook`; a 401 re-mints the
    token once; every minted token is masked with ``amask_secret``. Every send, retries included,
    takes a slot of the account's budget, and a rate-limited answer pauses it.

    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    :param timeout: Connect and read timeouts in seconds, or one number for both.
    :param retry_policy: What is retried and how long to wait; see :class:`RetryPolicy`.
    :param budget: The request budget of the account: a budget, or a function that gives it for
        the connection's settings once they are read; by default this event loop's budget of the
        account (every process's, with a budget store; see :mod:`airflow_campaign_provider.budget`).
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
        self.budget: AsyncRequestBudget | None = None  # known once the connection is read
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
        from airflow_campaign_provider._compat import amask_secret, aread_connection

        conn, extra = await aread_connection(self, self.kore_conn_id)
        settings = self.settings_of(conn, extra)
        await amask_secret(settings.client_secret)
        if self._budget is None:
            budget = BudgetSettings.from_config(settings.requests_per_minute, settings.budget)
            self.budget = async_budget_for(budget, settings.base_url, settings.account_id)
        else:
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

    async def _token(self, tokens: TokenMinter, *, one_time: bool = False) -> str:
        token, reusable_and_new = tokens.token(one_time=one_time)
        if reusable_and_new:
            from airflow_campaign_provider._compat import amask_secret

            await amask_secret(token)
        return token

    async def _send(
        self, request: ApiRequest, *, one_time_token: bool = False
    ) -> tuple[int, str, Mapping[str, str]]:
        """One HTTP exchange inside a budget slot and the attempt's total deadline.

        Like the sync hook's: the body is streamed into :class:`AnswerBody`; transport failures
        become typed errors, permanent ones a ``CampaignConnectionConfigError`` naming the field.
        """
        import anyio
        import httpx

        _, api, tokens = await self._parts()
        # Token first: the slot covers only the exchange, as in the sync hook.
        arguments = api.send_arguments(request, await self._token(tokens, one_time=one_time_token))
        async with self._budget_slot() as slot:
            seconds = self.retry_policy.max_attempt_seconds
            try:
                with anyio.fail_after(seconds):
                    status_code, text, headers = await self._exchange(
                        request, arguments, clock.monotonic() + seconds
                    )
            except TimeoutError:
                raise attempt_timeout(request, seconds) from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
                raise url_failure(error) from None
            except httpx.TransportError as error:
                if _caused_by_tls(error):
                    raise tls_failure(error) from None
                never_connected = isinstance(
                    error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
                )
                raise transport_error(request, error, sent=not never_connected) from error
            slot.note(status_code, headers)
            return status_code, text, headers

    async def _exchange(
        self, request: ApiRequest, arguments: dict[str, Any], deadline: float
    ) -> tuple[int, str, Mapping[str, str]]:
        async with self._http().stream(**arguments) as response:
            body = AnswerBody(request, response.status_code, response.headers, deadline=deadline)
            async for chunk in response.aiter_raw(READ_CHUNK_BYTES):
                body.add(chunk)
                if body.full:
                    break
            return response.status_code, body.text(), response.headers

    @asynccontextmanager
    async def _budget_slot(self) -> AsyncIterator[SlotAnswer]:
        await self._parts()  # reads the connection, and with it the account's budget
        assert self.budget is not None
        async with self.budget.slot() as slot:
            yield slot

    async def _attempt(self, request: ApiRequest) -> ApiAnswer:
        """Send once, and once more with a one-time token if Kore answers 401."""
        tokens = (await self._parts())[2]
        status_code, text, headers = await self._send(request)
        if tokens.refused(status_code):
            self.log.info(TOKEN_REFUSED_LOG, request.description)
            status_code, text, headers = await self._send(request, one_time_token=True)
        return read_answer(request, status_code, text, headers)

    async def run(self, request: ApiRequest) -> ApiAnswer:
        """Send ``request`` under the retry policy and return Kore's 2xx answer, or raise a typed error.

        A retrier per call: tenacity keeps its attempt state per thread, which concurrent
        coroutines would share.
        """
        import tenacity

        retrying = tenacity.AsyncRetrying(
            sleep=clock.backoff_async, **self.retry_policy.tenacity_arguments(request, self._log_retry)
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
