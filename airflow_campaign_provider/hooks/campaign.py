"""CampaignHook: the one place that talks to Kore.ai's Campaign Management API v2 over HTTP.

Importing this module stays cheap (DAG files import it at every parse): ``requests`` and
``jwt`` are imported on first use, not here.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

import tenacity
from airflow.sdk import BaseHook

from airflow_campaign_provider.api import (
    TOKEN_REFUSED_LOG,
    ApiAnswer,
    ApiRequest,
    CampaignPage,
    CampaignRequests,
    KoreConnectionSettings,
    RetryPolicy,
    TokenMinter,
    parse_campaign,
    parse_deleted,
    parse_page,
    parse_status,
    parse_trigger,
    read_answer,
    transport_error,
)
from airflow_campaign_provider.exceptions import CampaignError, CampaignNotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    import requests

DEFAULT_TIMEOUT = (10.0, 30.0)
#: Per (connection, stream, campaign type, trigger): the documented path shape that worked last.
_WORKING_TRIGGER_SHAPE: dict[tuple[str, str, str, str], int] = {}


def _sleep(seconds: float) -> None:
    """Back-off sleep; a seam tests replace so retries cost no wall time."""
    time.sleep(seconds)


class CampaignHookBase(BaseHook):
    """What the synchronous and the asynchronous hook share: the connection type, timeouts, the
    retry policy and how a retry is logged. Requests, auth and answers come from ``api``."""

    conn_name_attr = "kore_conn_id"
    default_conn_name = "kore_campaign_default"
    conn_type = "kore_campaign"
    hook_name = "Kore.ai Campaigns"

    def __init__(
        self,
        kore_conn_id: str = default_conn_name,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry_policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if timeout is None:
            raise ValueError("timeout: must be a number of seconds or a (connect, read) pair, never None")
        self.kore_conn_id = kore_conn_id
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy()

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        self.log.warning(
            "Kore.ai call failed (attempt %d of %d), retrying in %.1fs: %s",
            state.attempt_number,
            self.retry_policy.max_attempts,
            wait,
            error,
        )


class CampaignHook(CampaignHookBase):
    """
    Interact with Kore.ai campaigns: create, start, stop, read, list and delete.

    Auth is a JWT minted from the connection's client id and secret (cached until shortly before
    it expires, or fresh per request when the connection enforces ``jti``). HTTP goes through one
    pooled ``requests.Session`` with connect and read timeouts, and retries with exponential
    back-off and jitter on connection errors, timeouts, 5xx and rate limits (``Retry-After``
    honoured). A create or start is never replayed blindly; a 401 re-mints the token once.

    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    :param timeout: Connect and read timeouts in seconds, or one number for both. Never None.
    :param retry_policy: What is retried and how long to wait; see :class:`RetryPolicy`.
    :param stream_id: Use this bot/stream id instead of the connection's ``extra.stream_id``
        (the ``iid`` header follows it unless the connection sets ``extra.iid``).
    """

    def __init__(
        self,
        kore_conn_id: str = CampaignHookBase.default_conn_name,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry_policy: RetryPolicy | None = None,
        stream_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(kore_conn_id, timeout=timeout, retry_policy=retry_policy, **kwargs)
        self.stream_id = stream_id

    # --- connection, auth, transport ----------------------------------------------------------

    @cached_property
    def settings(self) -> KoreConnectionSettings:
        """The validated connection; a missing field raises an error naming it."""
        conn = self.get_connection(self.kore_conn_id)
        extra = conn.extra_dejson
        if self.stream_id:
            extra = {**extra, "stream_id": self.stream_id}
        settings = KoreConnectionSettings.from_connection(
            host=conn.host, port=conn.port, login=conn.login, password=conn.password, extra=extra
        )
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
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=32, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def close(self) -> None:
        """Close pooled connections; the hook can still be used afterwards."""
        if "_session" in self.__dict__:
            self.__dict__.pop("_session").close()

    def _token(self) -> str:
        token, minted = self.tokens.token()
        if minted:
            from airflow.sdk.log import mask_secret

            mask_secret(token)
        return token

    def _send(self, request: ApiRequest) -> requests.Response:
        """One HTTP exchange; transport failures become ``CampaignTransportError``."""
        import requests as requests_lib

        try:
            return self.get_conn().request(
                **self.api.send_arguments(request, self._token()), timeout=self.timeout, allow_redirects=False
            )
        except requests_lib.RequestException as error:
            raise transport_error(request, error, sent=not _never_connected(error)) from error

    def _attempt(self, request: ApiRequest) -> ApiAnswer:
        """Send once, re-minting the token and resending once if Kore answers 401."""
        response = self._send(request)
        if self.tokens.refused(response.status_code):
            self.log.info(TOKEN_REFUSED_LOG, request.description)
            response = self._send(request)
        return read_answer(request, response.status_code, response.text, response.headers)

    def run(self, request: ApiRequest) -> ApiAnswer:
        """Send ``request`` under the retry policy and return Kore's 2xx answer, or raise a typed error."""
        return self._retriers[request.replayable](self._attempt, request)

    @cached_property
    def _retriers(self) -> dict[bool, tenacity.Retrying]:
        """One retrier per kind of request, built once: building one costs more than a local call.

        Sharing is safe across threads (mapped tasks): tenacity keeps each call's state thread-local.
        """
        return {
            replayable: tenacity.Retrying(
                sleep=_sleep,
                **self.retry_policy.tenacity_arguments(
                    ApiRequest("", "", {}, replayable=replayable), self._log_retry
                ),
            )
            for replayable in (True, False)
        }

    # --- campaign operations ------------------------------------------------------------------

    def create_sms_campaign(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Create an SMS campaign from a template; returns the campaign (its id is ``_id``).

        Not replayed after an ambiguous failure: ``CampaignOutcomeUnknownError`` tells the caller
        to look the campaign up by name before trying again.
        """
        request = self.api.create_sms_campaign(payload)
        return parse_campaign(self.run(request))

    def get_campaign(self, campaign_id: str) -> dict[str, Any]:
        """The full campaign object (the ``data`` of the answer)."""
        return parse_campaign(self.run(self.api.get_campaign(campaign_id)))

    def get_campaign_status(self, campaign_id: str) -> str:
        """The campaign's status through the light ``view=status`` call."""
        return parse_status(self.run(self.api.get_campaign_status(campaign_id)))

    def start_campaign(self, campaign_id: str, campaign_type: str = "sms") -> dict[str, Any]:
        """``trigger=play``. After an ambiguous failure, read the status before trying again."""
        return self._trigger(campaign_id, campaign_type, "play")

    def stop_campaign(self, campaign_id: str, campaign_type: str = "sms") -> dict[str, Any]:
        """``trigger=stop``; answers ``{status: "Stopped", message, updatedAt, …}``."""
        return self._trigger(campaign_id, campaign_type, "stop")

    def _trigger(self, campaign_id: str, campaign_type: str, action: str) -> dict[str, Any]:
        """Play or stop in the path shape known to work, else the page's own.

        Kore's pages write three shapes. A 404 means nothing was played or stopped: if the status
        view finds the campaign, the other documented shape is tried once, and the one that works
        is remembered for this connection (in this process). A path set on the connection is the
        only one tried.
        """
        build = self.api.start_campaign if action == "play" else self.api.stop_campaign
        shapes = self.api.trigger_shapes(campaign_type, action)
        memory = (self.kore_conn_id, self.settings.stream_id, campaign_type, action)
        shape = _WORKING_TRIGGER_SHAPE.get(memory, 0)
        try:
            return parse_trigger(self.run(build(campaign_id, campaign_type, shape)))
        except CampaignNotFoundError as error:
            if len(shapes) < 2:
                raise
            self.get_campaign_status(campaign_id)  # a 404 here too: the campaign is truly unknown
            other = 1 - shape
            self.log.warning(
                "Kore.ai answered 404 to %s (%s) but knows campaign %s; trying the other documented path.",
                error.path,
                action,
                campaign_id,
            )
            answer = parse_trigger(self.run(build(campaign_id, campaign_type, other)))
            _WORKING_TRIGGER_SHAPE[memory] = other
            return answer

    def delete_campaign(self, campaign_id: str, campaign_type: str = "sms") -> dict[str, Any]:
        """Delete; answers ``{status: "success", message, data: {…the deleted campaign…}}``."""
        return parse_deleted(self.run(self.api.delete_campaign(campaign_id, campaign_type)))

    def list_campaigns_page(
        self,
        campaign_type: str = "sms",
        statuses: Iterable[str] | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> CampaignPage:
        """One page of campaigns, optionally filtered by status."""
        request = self.api.list_campaigns(campaign_type, statuses, page, page_size)
        return parse_page(self.run(request))

    def iter_campaigns(
        self, campaign_type: str = "sms", statuses: Iterable[str] | None = None, page_size: int = 50
    ) -> Iterator[dict[str, Any]]:
        """Every campaign of a type (and statuses), page by page, one call per page."""
        statuses = list(statuses) if statuses else None
        page = 1
        while True:
            result = self.list_campaigns_page(campaign_type, statuses, page, page_size)
            yield from result.results
            last_page = result.total_pages is not None and page >= result.total_pages
            if not result.results or not result.has_more or last_page:
                return
            page += 1

    def find_campaign_by_name(self, name: str, campaign_type: str = "sms") -> dict[str, Any] | None:
        """The campaign whose name matches case-insensitively (as Kore's ``lname``), or None."""
        wanted = name.strip().lower()
        for campaign in self.iter_campaigns(campaign_type):
            if str(campaign.get("lname") or campaign.get("name") or "").strip().lower() == wanted:
                return campaign
        return None

    def test_connection(self) -> tuple[bool, str]:
        """Make one real authenticated call (one list page) and say whether it worked."""
        try:
            page = self.list_campaigns_page(page_size=1)
        except CampaignError as error:
            return False, str(error)
        except Exception as error:
            return False, f"{type(error).__name__}: {error}"
        count = (
            f"{page.total_results} SMS campaigns" if page.total_results is not None else "campaigns listed"
        )
        return True, f"Connected to Kore.ai account {self.settings.account_id}: {count}."


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
