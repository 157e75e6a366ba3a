"""The synchronous hook's connection, auth and transport: one pooled ``requests`` session, a total
deadline per attempt, the account's request budget and the retry policy.

:class:`CampaignTransport` is what :class:`~airflow_campaign_provider.hooks.campaign.CampaignHook`
sends every Kore call through (``run``); the hook adds one thin method per call. Importing this
module stays cheap: ``requests`` and ``jwt`` are imported on first use.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

import tenacity

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import (
    READ_CHUNK_BYTES,
    TOKEN_REFUSED_LOG,
    AnswerBody,
    ApiAnswer,
    ApiRequest,
    CampaignRequests,
    TokenMinter,
    attempt_timeout,
    read_answer,
    tls_failure,
    transport_error,
    url_failure,
)
from airflow_campaign_provider.exceptions import CampaignError
from airflow_campaign_provider.hooks.base import CampaignHookBase

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

    from airflow_campaign_provider.budget import BudgetSettings, RequestBudget
    from airflow_campaign_provider.hooks.deadline import Exchange
    from airflow_campaign_provider.models.connection import KoreConnectionSettings


class CampaignTransport(CampaignHookBase):
    """The connection (validated settings, request builder, token minter) and the HTTP of the
    synchronous hook: :meth:`run` sends one request under the retry policy."""

    # --- connection, auth, transport ----------------------------------------------------------

    @cached_property
    def settings(self) -> KoreConnectionSettings:
        """The validated connection; a missing field raises an error naming it."""
        conn = self.get_connection(self.kore_conn_id)
        settings = self.settings_of(conn, conn.extra_dejson)
        from airflow.sdk.log import mask_secret

        mask_secret(settings.client_secret)
        return settings

    @cached_property
    def api(self) -> CampaignRequests:
        """Builds every Kore request for this connection."""
        return CampaignRequests(self.settings)

    @cached_property
    def tokens(self) -> TokenMinter:
        return TokenMinter(self.settings)

    def get_conn(self) -> requests.Session:
        """The pooled session, created on first use."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        import requests

        from airflow_campaign_provider.hooks.deadline import DeadlineAdapter

        session = requests.Session()
        adapter = DeadlineAdapter(pool_connections=1, pool_maxsize=32, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def close(self) -> None:
        """Close pooled connections; the hook can still be used afterwards."""
        if "_session" in self.__dict__:
            self.__dict__.pop("_session").close()

    def _token(self, *, one_time: bool = False) -> str:
        token, reusable_and_new = self.tokens.token(one_time=one_time)
        if reusable_and_new:
            from airflow.sdk.log import mask_secret

            mask_secret(token)
        return token

    @cached_property
    def budget(self) -> RequestBudget:
        """The account's request budget in this process: shared through the budget store if set."""
        from airflow_campaign_provider.budget import budget_for

        settings = self.settings
        return budget_for(
            self._budget_settings(), settings.base_url, settings.account_id, limit_without_store=False
        )

    def pace_every_call(self) -> None:
        """From now on every call of this hook, retries included, takes a slot of the account's
        budget even without a budget store (a window of this hook's own then), instead of leaving
        the pace to Kore's 429s: for a caller about to send thousands of calls."""
        from airflow_campaign_provider.budget import RequestBudget

        settings = self.settings
        self.__dict__["budget"] = RequestBudget(
            self._budget_settings(), settings.base_url, settings.account_id
        )

    def _budget_settings(self) -> BudgetSettings:
        from airflow_campaign_provider.budget import BudgetSettings

        settings = self.settings
        return BudgetSettings.from_config(settings.requests_per_minute, settings.budget)

    def _send(
        self, request: ApiRequest, *, one_time_token: bool = False
    ) -> tuple[int, str, Mapping[str, str]]:
        """One HTTP exchange in a budget slot, within the attempt's total deadline: status, body
        text, headers.

        The deadline covers the whole exchange, connect to last byte: the watchdog of
        :mod:`~airflow_campaign_provider.hooks.deadline` shuts the socket of an exchange that
        overruns it, so a server dripping its status line or headers cannot hold the call. The body
        is streamed into :class:`AnswerBody` (size cap, bounded decoding). Transport failures become
        ``CampaignTransportError``; permanent ones (TLS to a plain-HTTP port, a URL the client
        refuses) a ``CampaignConnectionConfigError`` naming the field, at once.
        """
        from airflow_campaign_provider.hooks.deadline import WATCHDOG

        # Session and token first: the slot covers only the exchange (a long wait for it ending
        # in an expired token costs one re-mint, as any 401 does).
        session = self.get_conn()
        arguments = self.api.send_arguments(request, self._token(one_time=one_time_token))
        seconds = self.retry_policy.max_attempt_seconds
        exchange: Exchange | None = None
        try:
            with self.budget.slot() as slot:
                exchange = WATCHDOG.begin(seconds)
                response = self._request(session, request, arguments, seconds)
                slot.note(response.status_code, response.headers)
            # The watchdog's deadline is on the real clock; AnswerBody reads ``clock``.
            text = self._read_body(
                request, response, clock.monotonic() + exchange.deadline - time.monotonic()
            )
        except CampaignError:
            if exchange is not None and WATCHDOG.end(exchange):  # the error is the cut's symptom
                raise attempt_timeout(request, seconds, sent=exchange.maybe_sent) from None
            raise
        finally:
            if exchange is not None and not exchange.ended:
                WATCHDOG.end(exchange)
        if exchange.cut:  # what looked like the end of the body may have been the cut
            raise attempt_timeout(request, seconds)
        return response.status_code, text, response.headers

    def _request(
        self, session: requests.Session, request: ApiRequest, arguments: dict[str, Any], seconds: float
    ) -> requests.Response:
        """Send and read the status line and headers; the body is left to stream."""
        import requests as requests_lib

        connect, read = self.timeout if isinstance(self.timeout, tuple) else (self.timeout, self.timeout)
        timeout = (min(connect, seconds), min(read, seconds))  # no single wait past the deadline
        try:
            return session.request(**arguments, timeout=timeout, allow_redirects=False, stream=True)
        except requests_lib.exceptions.SSLError as error:
            raise tls_failure(error) from None
        except (requests_lib.exceptions.InvalidURL, requests_lib.exceptions.InvalidSchema) as error:
            raise url_failure(error) from None
        except requests_lib.RequestException as error:
            raise transport_error(request, error, sent=not _never_connected(error)) from error

    @staticmethod
    def _read_body(request: ApiRequest, response: requests.Response, deadline: float) -> str:
        """Stream the body into :class:`AnswerBody`; pool the connection only if read to the end."""
        from urllib3.exceptions import HTTPError as Urllib3Error

        body = AnswerBody(request, response.status_code, response.headers, deadline=deadline)
        complete = False
        try:
            while not body.full:
                chunk = response.raw.read1(READ_CHUNK_BYTES, decode_content=False)
                if not chunk:
                    complete = True
                    break
                body.add(chunk)
        except (Urllib3Error, OSError) as error:
            raise transport_error(request, error, sent=True) from error
        finally:
            if complete:
                response.raw.release_conn()  # read to the end: the connection is reused
            else:
                response.close()  # the rest is unread: the connection is dropped
        return body.text()

    def _attempt(self, request: ApiRequest) -> ApiAnswer:
        """Send once, and once more with a one-time token if Kore answers 401."""
        status_code, text, headers = self._send(request)
        if self.tokens.refused(status_code):
            self.log.info(TOKEN_REFUSED_LOG, request.description)
            status_code, text, headers = self._send(request, one_time_token=True)
        return read_answer(request, status_code, text, headers)

    def run(self, request: ApiRequest) -> ApiAnswer:
        """Send ``request`` under the retry policy and return Kore's 2xx answer, or raise a typed error.

        The first attempt goes out directly: most calls succeed at once, and the retrier's
        bookkeeping (about 13 us a call) is paid only once an attempt has failed. The retrier then
        judges that failure as its own first attempt, dated from when it began, so the attempts
        counted, the waits, the logs and the total time bound are those of the policy.
        """
        first = _FirstAttempt(time.monotonic())
        try:
            return self._attempt(request)
        except Exception as error:  # the retrier decides, as for any attempt: retry or re-raise
            first.error = error
        return self._retriers[request.replayable](self._retry, request, first)

    def _retry(self, request: ApiRequest, first: _FirstAttempt) -> ApiAnswer:
        """An attempt under the retrier: the first one's failure, as it happened, then new sends."""
        error, first.error = first.error, None
        if error is not None:
            raise error
        return self._attempt(request)

    @cached_property
    def _retriers(self) -> dict[bool, tenacity.Retrying]:
        """One retrier per kind of request, built once: building one costs more than a local call.

        Sharing is safe across threads (mapped tasks): tenacity keeps each call's state thread-local.
        """
        return {
            replayable: tenacity.Retrying(
                sleep=lambda seconds: clock.backoff(seconds),  # looked up per call: tests patch it
                before=_date_from_first_attempt,
                **self.retry_policy.tenacity_arguments(
                    ApiRequest("", "", {}, replayable=replayable), self._log_retry
                ),
            )
            for replayable in (True, False)
        }


class _FirstAttempt:
    """When a call's first attempt began, and how it failed (until the retrier has judged it)."""

    __slots__ = ("error", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.error: Exception | None = None


def _date_from_first_attempt(state: tenacity.RetryCallState) -> None:
    """The retrier's clock starts when the call's first attempt began, not when it failed
    (``RetryCallState`` reads ``time.monotonic`` too): the total time bound covers every attempt."""
    if state.attempt_number == 1:
        state.start_time = state.args[1].started


def _never_connected(error: BaseException) -> bool:
    """True when the request surely never reached the server (connect refused or timed out)."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(error, requests.ConnectTimeout):
        return True
    cause: BaseException | None = (
        error.args[0] if error.args and isinstance(error.args[0], BaseException) else None
    )
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))
