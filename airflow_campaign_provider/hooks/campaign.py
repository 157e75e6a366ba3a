"""CampaignHook: the one place that talks to Kore.ai's Campaign Management API v2 over HTTP.

Importing this module stays cheap (DAG files import it at every parse): ``requests`` and
``jwt`` are imported on first use, not here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import tenacity

from airflow_campaign_provider._compat import BaseHook
from airflow_campaign_provider.api import (
    READ_CHUNK_BYTES,
    TOKEN_REFUSED_LOG,
    AnswerBody,
    ApiAnswer,
    ApiRequest,
    CampaignPage,
    CampaignRequests,
    CampaignType,
    RetryPolicy,
    TokenMinter,
    attempt_timeout,
    campaign_id_of,
    created_at,
    creation_order,
    parse_campaign,
    parse_contact_results,
    parse_deleted,
    parse_page,
    parse_schedule,
    parse_status,
    parse_trigger,
    read_answer,
    tls_failure,
    transport_error,
    url_failure,
)
from airflow_campaign_provider.budget import BudgetSettings, RequestBudget, budget_for
from airflow_campaign_provider.exceptions import (
    CampaignAlreadyRunError,
    CampaignArgumentsError,
    CampaignConflictError,
    CampaignError,
    CampaignNotFoundError,
    CampaignNotStartableError,
    CampaignOutcomeUnknownError,
    CampaignServerError,
    CampaignStateError,
    CampaignValidationError,
    CampaignWaitFailedError,
    CampaignWaitTimeoutError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.hooks.contact_list import ContactListHookMixin
from airflow_campaign_provider.lifecycle import schedule
from airflow_campaign_provider.models.connection import KoreConnectionSettings
from airflow_campaign_provider.paging import MAX_CAMPAIGN_PAGES, MAX_RESULT_PAGES, Page, pages
from airflow_campaign_provider.status import (
    NOT_STARTED_STATUSES,
    TERMINAL_STATUSES,
    CampaignStatus,
    WaitGoal,
    is_documented,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    import requests
    from airflow.sdk import Connection
    from pydantic import BaseModel

    from airflow_campaign_provider.hooks.deadline import Exchange
    from airflow_campaign_provider.models.update import CampaignSpec

DEFAULT_TIMEOUT = (10.0, 30.0)
#: Campaigns per page of a look-up by name: the most Kore's list is known to take.
LOOKUP_PAGE_SIZE = 100
IF_EXISTS_CHOICES = ("reuse", "fail")
#: Per (connection, stream, campaign type, trigger): the documented path shape that worked last.
_WORKING_TRIGGER_SHAPE: dict[tuple[str, str, str, str], int] = {}


def _sleep(seconds: float) -> None:
    """Back-off sleep; a seam tests replace so retries cost no wall time."""
    time.sleep(seconds)


def _pause(seconds: float) -> None:
    """Polling and re-check sleep of the lifecycle methods; a seam tests replace with a fake clock."""
    time.sleep(seconds)


@dataclass(frozen=True)
class CampaignStart:
    """What :meth:`CampaignHook.start_campaign_once` did: the status, and whether this call played it."""

    status: str
    started: bool


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
        stream_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if timeout is None:
            raise ValueError("timeout: must be a number of seconds or a (connect, read) pair, never None")
        self.kore_conn_id = kore_conn_id
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self.stream_id = stream_id or None

    def settings_of(self, conn: Connection, extra: Mapping[str, Any]) -> KoreConnectionSettings:
        """The validated settings of ``conn`` (its ``extra`` already decoded), this hook's stream
        replacing the connection's; a missing or malformed field raises an error naming it."""
        if self.stream_id:
            extra = {**extra, "stream_id": self.stream_id}
        return KoreConnectionSettings.from_connection(
            host=conn.host, port=conn.port, login=conn.login, password=conn.password, extra=extra
        )

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


class CampaignHook(ContactListHookMixin, CampaignHookBase):
    """
    Interact with Kore.ai campaigns: create, start, stop, read, list and delete; and contact
    lists: create, read, fill and delete (see :class:`ContactListHookMixin`).

    Auth is a JWT minted from the connection's client id and secret (cached until shortly before
    it expires, or fresh per request when the connection enforces ``jti``). HTTP goes through one
    pooled ``requests.Session`` with connect and read timeouts and a total deadline per attempt
    (``retry_policy.max_attempt_seconds``), and retries with exponential
    back-off and jitter on connection errors, timeouts, 5xx and rate limits (``Retry-After``
    honoured). A create or start is never replayed blindly; a 401 re-mints the token once.

    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    :param timeout: Connect and read timeouts in seconds, or one number for both. Never None.
    :param retry_policy: What is retried and how long to wait; see :class:`RetryPolicy`.
    :param stream_id: Use this bot/stream id instead of the connection's ``extra.stream_id``
        (the ``iid`` header follows it unless the connection sets ``extra.iid``).
    """

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
        settings = self.settings
        budget = BudgetSettings.from_config(settings.requests_per_minute, settings.budget)
        return budget_for(budget, settings.base_url, settings.account_id, limit_without_store=False)

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
            text = self._read_body(request, response, exchange.deadline)
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
        *,
        newest_first: bool = False,
    ) -> CampaignPage:
        """One page of campaigns, optionally filtered by status (``newest_first``: by ``createdAt``)."""
        request = self.api.list_campaigns(campaign_type, statuses, page, page_size, newest_first=newest_first)
        return parse_page(self.run(request))

    def iter_campaigns(
        self,
        campaign_type: str = "sms",
        statuses: Iterable[str] | None = None,
        page_size: int = 50,
        *,
        newest_first: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every campaign of a type (and statuses), page by page, one call per page."""
        for page in self._campaign_pages(campaign_type, statuses, page_size, newest_first=newest_first):
            yield from page

    def _campaign_pages(
        self,
        campaign_type: str,
        statuses: Iterable[str] | None,
        page_size: int,
        *,
        newest_first: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """The campaigns each page adds, page by page, through the bounded pager (:mod:`.paging`)."""
        statuses = list(statuses) if statuses else None

        def fetch(index: int, _read: int) -> Page:
            result = self.list_campaigns_page(
                campaign_type, statuses, index + 1, page_size, newest_first=newest_first
            )
            return Page(result.results, result.has_more, result.total_pages)

        path = f"{self.api.base_path}/getAllCampaignDetails"
        yield from pages(
            fetch,
            what="the campaign list",
            page_size=page_size,
            max_pages=MAX_CAMPAIGN_PAGES,
            method="POST",
            path=path,
        )

    def find_campaign_by_name(
        self, name: str, campaign_type: str = "sms", *, created_after: datetime | None = None
    ) -> dict[str, Any] | None:
        """The campaign whose name matches case-insensitively (as Kore's ``lname``), or None; of
        several (Kore may not refuse a taken name), the first created. ``created_after``: see
        :meth:`campaigns_named`."""
        named = self.campaigns_named(name, campaign_type, created_after=created_after)
        return named[0] if named else None

    def campaigns_named(
        self, name: str, campaign_type: str = "sms", *, created_after: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Every campaign with this name (case-insensitively), first created first (then by id).

        Without ``created_after`` the whole account is read. With it, only campaigns created since
        then (less ``lookup_clock_margin``, for Kore's clock) are looked for, newest first, so the
        look-up reads the pages created since, whatever the account's size. A server that does not
        list newest first is noticed from its page and read whole instead (a warning says so).
        """
        wanted = name.strip().lower()
        if created_after is None:
            listing = self.iter_campaigns(campaign_type, page_size=LOOKUP_PAGE_SIZE)
        else:
            listing = self._created_since(campaign_type, created_after - self.lookup_clock_margin)
        named: dict[str, dict[str, Any]] = {}
        for campaign in listing:
            if str(campaign.get("lname") or campaign.get("name") or "").strip().lower() == wanted:
                named.setdefault(campaign_id_of(campaign) or f"#{len(named)}", campaign)
        return sorted(named.values(), key=creation_order)

    def _created_since(self, campaign_type: str, since: datetime) -> Iterator[dict[str, Any]]:
        """Campaigns newest first, up to the first page that reaches back before ``since``.

        Stops early only on pages proven newest first: every ``createdAt`` readable, none newer
        than the one before it, and two different times seen (a page of equal times proves no
        order). Anything else falls back to reading every page.
        """
        newest: datetime | None = None
        previous: datetime | None = None
        pages = self._campaign_pages(campaign_type, None, LOOKUP_PAGE_SIZE, newest_first=True)
        for page in pages:
            read = [created_at(campaign) for campaign in page]
            stamps = [stamp for stamp in read if stamp is not None]
            run = [previous, *stamps] if previous is not None else stamps
            ordered = len(stamps) == len(read) and all(b <= a for a, b in pairwise(run))
            yield from page
            if not ordered:
                self.log.warning(
                    "Kore.ai did not list %s campaigns newest first (sortBy createdAt desc): "
                    "reading the whole account to look the name up.",
                    campaign_type,
                )
                yield from self.iter_campaigns(campaign_type, page_size=LOOKUP_PAGE_SIZE)
                return
            if stamps:
                newest = newest or stamps[0]
                previous = stamps[-1]
            if previous is not None and previous < since and newest != previous:
                return  # every later page lists campaigns created before ``since``

    # --- the lifecycle, exactly once ----------------------------------------------------------

    #: Create or play attempts at most; each after the first only once Kore surely did not act.
    max_attempts = 3
    #: Name look-ups after an ambiguous create before concluding it did not happen.
    ambiguity_lookups = 2
    #: Pause between two look-ups (or status reads) that settle an ambiguous create (or play).
    ambiguity_recheck_seconds = 5.0
    #: How much earlier than the time given a look-up by name still looks: Kore's clock may be behind.
    lookup_clock_margin = timedelta(minutes=15)

    def create_campaign_once(
        self,
        spec: CampaignSpec,
        *,
        if_exists: str = "reuse",
        max_attempts: int | None = None,
        ambiguity_lookups: int | None = None,
        ambiguity_recheck_seconds: float | None = None,
        created_after: datetime | None = None,
    ) -> dict[str, Any]:
        """Create the campaign ``spec`` describes (any type: ``spec`` names it, builds its checked
        body and tells how an existing one differs) unless this very campaign exists; return it.

        Every argument is checked before any HTTP call (one error lists every problem). A
        same-named campaign is looked up first and adopted when it matches (``if_exists="reuse"``)
        or refused, naming every differing field; ``if_exists="fail"`` refuses any. After an
        ambiguous failure (timeout, dropped connection, 5xx) the name is looked up again before
        any new attempt, so a retried task never creates a second campaign. After creating, the
        name is looked up once more: of two same-named campaigns made concurrently, the later
        deletes itself and the earlier is adopted.

        ``created_after``: no campaign this call could adopt was created before it (a task passes
        its run's start), so the look-ups read only the campaigns created since, newest first;
        without it, the first look-up reads the whole account.
        """
        body = spec.to_body()  # every argument is checked before any HTTP call
        if if_exists not in IF_EXISTS_CHOICES:
            raise InvalidCampaignArgumentError(
                "if_exists", f"must be one of {', '.join(IF_EXISTS_CHOICES)}, got {if_exists!r}"
            )
        if created_after is not None and created_after.tzinfo is None:
            raise InvalidCampaignArgumentError("created_after", "must carry a time zone")
        # Once a look-up has found nothing, a same-named campaign can only appear after it began.
        since = created_after or datetime.now(timezone.utc)
        found = self.find_campaign_by_name(spec.name, spec.campaign_type, created_after=created_after)
        if found is not None:
            if if_exists == "fail":
                raise CampaignConflictError(
                    f"A campaign named {found.get('name')!r} already exists ({campaign_id_of(found)}, "
                    f"status {found.get('status')}); if_exists='fail' forbids reusing it."
                )
            return self._adopt(spec, found, "already exists")
        return self._create_once(
            spec,
            body,
            if_exists=if_exists,
            max_attempts=max_attempts or self.max_attempts,
            lookups=ambiguity_lookups or self.ambiguity_lookups,
            recheck_seconds=self._recheck(ambiguity_recheck_seconds),
            since=since,
        )

    #: The SMS create of the first release; every type goes through :meth:`create_campaign_once`.
    create_sms_campaign_once = create_campaign_once

    def _recheck(self, seconds: float | None) -> float:
        return self.ambiguity_recheck_seconds if seconds is None else seconds

    def _adopt(self, spec: CampaignSpec, found: Mapping[str, Any], why: str) -> dict[str, Any]:
        """The full campaign behind a name match, if it is what ``spec`` asks for."""
        campaign_id = campaign_id_of(found)
        if campaign_id is None:
            raise CampaignConflictError(f"Kore.ai lists a campaign named {spec.name!r} without an id.")
        campaign = self.get_campaign(campaign_id)
        differing, unchecked = spec.differences(campaign)
        if differing:
            raise CampaignConflictError(
                f"A campaign named {campaign.get('name')!r} ({campaign_id}) {why} but differs from what "
                f"this task asks for, so it is not reused:\n" + "\n".join(f"  - {line}" for line in differing)
            )
        if unchecked:
            self.log.info(
                "Kore.ai does not show %s of campaign %s; not compared.", ", ".join(unchecked), campaign_id
            )
        status = campaign.get("status")
        self.log.info(
            "Reusing campaign %s (%s, %s): it %s and matches the request.",
            spec.name,
            campaign_id,
            status,
            why,
        )
        if status in TERMINAL_STATUSES:
            self.log.warning(
                "Campaign %s is already %s: it has run and will not be started again.", campaign_id, status
            )
        return campaign

    def _create_once(
        self,
        spec: CampaignSpec,
        body: dict[str, Any],
        *,
        if_exists: str,
        max_attempts: int,
        lookups: int,
        recheck_seconds: float,
        since: datetime,
    ) -> dict[str, Any]:
        """Create, and after an ambiguous failure resend only once the name is surely absent.

        ``since``: every same-named campaign a look-up must find was created after it.
        """
        ambiguous: CampaignError | None = None
        for attempt in range(1, max_attempts + 1):
            try:
                send = (
                    self.create_voice_campaign if spec.campaign_type == "voice" else self.create_sms_campaign
                )
                campaign = send(body)
            except (CampaignOutcomeUnknownError, CampaignServerError) as error:
                ambiguous = error
                self.log.warning(
                    "Creating campaign %s may or may not have worked (attempt %d of %d): %s. "
                    "Looking it up by name before any new attempt.",
                    spec.name,
                    attempt,
                    max_attempts,
                    error,
                )
                found = self._lookup_after_ambiguity(spec, lookups, recheck_seconds, since)
                if found is not None:
                    return self._adopt(spec, found, "was created by the unanswered attempt")
                self.log.info("No campaign named %s exists: the attempt did not take effect.", spec.name)
                continue
            except CampaignValidationError:
                # Kore refuses a taken name: a lost attempt of ours, or a concurrent run, got there first.
                found = self.find_campaign_by_name(spec.name, spec.campaign_type, created_after=since)
                if found is None:
                    raise
                if ambiguous is None and if_exists == "fail":
                    raise CampaignConflictError(
                        f"A campaign named {spec.name!r} was created concurrently; if_exists='fail'."
                    ) from None
                return self._adopt(spec, found, "was created concurrently")
            self.log.info(
                "Created campaign %s (%s), status %s.",
                spec.name,
                campaign_id_of(campaign),
                campaign.get("status"),
            )
            return self._keep_first_created(spec, campaign, since, if_exists)
        raise CampaignError(
            f"Gave up creating campaign {spec.name!r} after {max_attempts} attempts "
            f"that each failed ambiguously; none took effect. Last error: {ambiguous}"
        ) from ambiguous

    def _keep_first_created(
        self, spec: CampaignSpec, created: dict[str, Any], since: datetime, if_exists: str
    ) -> dict[str, Any]:
        """Of same-named campaigns made concurrently, keep the first created; ours deletes itself
        if it came later (and has not started), and the first is adopted.

        Kore does not document that it refuses a taken name. Every concurrent creator looks the
        name up after its own create, so the later one always sees the earlier and gives way;
        a campaign that has started is never deleted.
        """
        mine = campaign_id_of(created)
        named = self.campaigns_named(spec.name, spec.campaign_type, created_after=since)
        listed = {campaign_id_of(campaign) or "": campaign for campaign in named}
        if mine is None or not set(listed) - {mine}:
            return created
        ours = listed.get(mine, created)
        first = min([*named, ours], key=creation_order)
        if campaign_id_of(first) == mine:
            self.log.info("Campaign %s (%s) was created before its same-named twins: kept.", spec.name, mine)
            return created
        if created_at(first) is None or created_at(ours) is None:
            raise CampaignConflictError(
                f"Campaigns named {spec.name!r} were created concurrently ({', '.join(sorted(listed))}) "
                "and Kore.ai shows no creation time to tell which came first; none was deleted."
            )
        if ours.get("status") not in NOT_STARTED_STATUSES:
            self.log.warning(
                "Campaign %s (%s) has a same-named twin created earlier (%s) but is %s: not deleted.",
                spec.name,
                mine,
                campaign_id_of(first),
                ours.get("status"),
            )
            return created
        self.log.warning(
            "Campaign %s was created concurrently twice: %s first, then %s (this call's). "
            "Deleting %s, which has not started, and adopting %s.",
            spec.name,
            campaign_id_of(first),
            mine,
            mine,
            campaign_id_of(first),
        )
        self.delete_campaign_if_exists(mine, spec.campaign_type, stop_first=False)
        if if_exists == "fail":
            raise CampaignConflictError(
                f"A campaign named {spec.name!r} was created concurrently; if_exists='fail'."
            )
        return self._adopt(spec, first, "was created concurrently, first")

    def _lookup_after_ambiguity(
        self, spec: CampaignSpec, lookups: int, recheck_seconds: float, since: datetime
    ) -> dict[str, Any] | None:
        for lookup in range(lookups):
            if lookup:
                _pause(recheck_seconds)
            found = self.find_campaign_by_name(spec.name, spec.campaign_type, created_after=since)
            if found is not None:
                return found
        return None

    def start_campaign_once(
        self,
        campaign_id: str,
        campaign_type: str = "sms",
        *,
        is_retry: bool = False,
        max_attempts: int | None = None,
        ambiguity_recheck_seconds: float | None = None,
        before_play: Callable[[], None] | None = None,
    ) -> CampaignStart:
        """Play a ``Ready`` campaign, never twice; an ``Active`` one is left alone.

        Any other status is refused, naming it: ``Completed`` or ``Stopped`` fail for good
        (:class:`CampaignAlreadyRunError`, no task retries), except that on a retry
        (``is_retry``, e.g. ``ti.try_number > 1``) a ``Completed`` campaign is the one an earlier
        try started. When the play's answer is lost, the status settles whether it took effect.
        ``before_play`` is called before each play is sent, so a caller can record the intent
        (a kill while the play is in flight must stop the campaign).
        """
        status = self.get_campaign_status(campaign_id)
        if status == CampaignStatus.ACTIVE.value:
            self.log.info("Campaign %s is already Active; not triggering play again.", campaign_id)
            return CampaignStart(status, started=False)
        if status == CampaignStatus.READY.value:
            return self._play_once(
                campaign_id,
                campaign_type,
                max_attempts or self.max_attempts,
                self._recheck(ambiguity_recheck_seconds),
                before_play,
            )
        if status == CampaignStatus.COMPLETED.value and is_retry:
            # The first try did not refuse it (that refusal is final), so an earlier try started it.
            self.log.info(
                "Campaign %s is already Completed on a retry: an earlier try started it; "
                "not triggering play again.",
                campaign_id,
            )
            return CampaignStart(status, started=False)
        if status in TERMINAL_STATUSES:
            raise CampaignAlreadyRunError(_not_startable(campaign_id, status))
        raise CampaignNotStartableError(_not_startable(campaign_id, status))

    def _play_once(
        self,
        campaign_id: str,
        campaign_type: str,
        max_attempts: int,
        recheck_seconds: float,
        before_play: Callable[[], None] | None,
    ) -> CampaignStart:
        """Play once; after a lost answer, read the status and play again only while it is ``Ready``."""
        unanswered = False
        for attempt in range(1, max_attempts + 1):
            if before_play is not None:
                before_play()
            try:
                answer = self.start_campaign(campaign_id, campaign_type)
            except (CampaignOutcomeUnknownError, CampaignServerError) as error:
                unanswered = True
                self.log.warning(
                    "Starting campaign %s may or may not have worked (attempt %d of %d): %s. "
                    "Reading its status to settle it.",
                    campaign_id,
                    attempt,
                    max_attempts,
                    error,
                )
                status = self.get_campaign_status(campaign_id)
                if status == CampaignStatus.READY.value:
                    _pause(recheck_seconds)
                    status = self.get_campaign_status(campaign_id)
                if status == CampaignStatus.READY.value:
                    self.log.info("Campaign %s is still Ready: the play did not take effect.", campaign_id)
                    continue
                if status not in (CampaignStatus.ACTIVE.value, CampaignStatus.COMPLETED.value):
                    raise CampaignNotStartableError(
                        f"After an unanswered play, campaign {campaign_id} is {status}: "
                        "neither started by it nor startable."
                    ) from error
                self.log.info("Campaign %s is %s: the unanswered play took effect.", campaign_id, status)
                return CampaignStart(status, started=True)
            except CampaignValidationError as error:
                status = self.get_campaign_status(campaign_id)
                if status == CampaignStatus.ACTIVE.value:
                    self.log.info("Campaign %s was started meanwhile; it is Active.", campaign_id)
                    return CampaignStart(status, started=unanswered)  # late effect of our lost play?
                raise CampaignNotStartableError(
                    f"Kore.ai refused to start campaign {campaign_id} (now {status}): {error.kore_message}"
                ) from error
            status = str(answer.get("status") or CampaignStatus.ACTIVE.value)
            self.log.info("Started campaign %s: %s (%s).", campaign_id, answer.get("message"), status)
            return CampaignStart(status, started=True)
        raise CampaignError(
            f"Gave up starting campaign {campaign_id} after {max_attempts} unanswered plays; it is still Ready."
        )

    def stop_campaign_if_running(self, campaign_id: str, campaign_type: str = "sms") -> str:
        """Stop a running campaign and return its status; a stopped, completed or never started
        one (``Preparing``, ``Ready``) is left as is, and the log says which."""
        status = self.get_campaign_status(campaign_id)
        if status in TERMINAL_STATUSES:
            self.log.info("Campaign %s is already %s; nothing to stop.", campaign_id, status)
            return status
        if status in (CampaignStatus.PREPARING.value, CampaignStatus.READY.value):
            self.log.info("Campaign %s is %s: it was never started; nothing to stop.", campaign_id, status)
            return status
        try:
            answer = self.stop_campaign(campaign_id, campaign_type)
        except CampaignValidationError:
            status = self.get_campaign_status(campaign_id)
            if status not in TERMINAL_STATUSES:
                raise
            self.log.info("Campaign %s became %s meanwhile; nothing to stop.", campaign_id, status)
            return status
        status = str(answer.get("status") or CampaignStatus.STOPPED.value)
        self.log.info("Stopped campaign %s: %s (%s).", campaign_id, answer.get("message"), status)
        return status

    def delete_campaign_if_exists(
        self,
        campaign_id: str,
        campaign_type: str = "sms",
        *,
        missing_ok: bool = True,
        stop_first: bool = True,
    ) -> dict[str, Any]:
        """Delete a campaign (stopping an ``Active`` one first with ``stop_first``) and summarize it:
        ``campaign_id``, ``campaign_type``, ``name``, ``status``, ``deleted`` (False when it was
        already gone, accepted with ``missing_ok``) and Kore's ``message``."""
        try:
            if stop_first and self.get_campaign_status(campaign_id) == CampaignStatus.ACTIVE.value:
                self.stop_campaign_if_running(campaign_id, campaign_type)
            answer = self.delete_campaign(campaign_id, campaign_type)
        except CampaignNotFoundError as error:
            if not missing_ok:
                raise
            return self._already_deleted(campaign_id, campaign_type, error)
        data = answer.get("data")
        data = data if isinstance(data, Mapping) else {}
        summary = {
            "campaign_id": campaign_id_of(data) or campaign_id,
            "campaign_type": campaign_type,
            "name": data.get("name"),
            "status": data.get("status"),
            "deleted": True,
            "message": answer.get("message"),
        }
        self.log.info(
            "Deleted %s campaign %s (%s): %s", campaign_type, campaign_id, summary["name"], summary["message"]
        )
        return summary

    def _already_deleted(
        self, campaign_id: str, campaign_type: str, error: CampaignNotFoundError
    ) -> dict[str, Any]:
        """A 404 on delete: the campaign is gone, or it exists with the other type."""
        try:
            status = self.get_campaign_status(campaign_id)
        except CampaignNotFoundError:
            self.log.info("Campaign %s does not exist (already deleted?); nothing to delete.", campaign_id)
            return {
                "campaign_id": campaign_id,
                "campaign_type": campaign_type,
                "name": None,
                "status": None,
                "deleted": False,
                "message": error.kore_message,
            }
        raise InvalidCampaignArgumentError(
            "campaign_type",
            f"campaign {campaign_id} exists ({status}) but Kore.ai finds no {campaign_type} campaign "
            "with that id; is it of the other type?",
        ) from error

    def check_campaign_status(self, campaign_id: str, goal: WaitGoal) -> tuple[str, bool]:
        """Read the status once: ``(status, whether it ends a wait for goal)``; a failure status raises
        :class:`CampaignWaitFailedError` (no task retries: the campaign will not get there)."""
        status = self.get_campaign_status(campaign_id)
        outcome = goal.judge(campaign_id, status)
        if outcome is None:
            return status, False
        if outcome.status == "failure":
            raise CampaignWaitFailedError(outcome.message)
        self.log.info("%s", outcome.message)
        return status, True

    def wait_for_campaign_status(
        self,
        campaign_id: str,
        target_statuses: WaitGoal | str | Iterable[str],
        failure_statuses: str | Iterable[str] | None = None,
        *,
        timeout: float,
        poll_interval: float,
    ) -> str:
        """Poll until the status is a target and return it; fail at once on a failure status (by
        default every terminal status that is not a target), with :class:`CampaignWaitTimeoutError`
        after ``timeout`` seconds."""
        goal = (
            target_statuses
            if isinstance(target_statuses, WaitGoal)
            else WaitGoal.of(target_statuses, failure_statuses)
        )
        deadline = time.monotonic() + timeout
        while True:
            status, reached = self.check_campaign_status(campaign_id, goal)
            if reached:
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CampaignWaitTimeoutError(goal.timed_out(campaign_id, status).message)
            if is_documented(status):
                self.log.info("Campaign %s is %s; waiting.", campaign_id, status)
            else:
                self.log.warning(
                    "Campaign %s is in status %r, which Kore.ai does not document; waiting on.",
                    campaign_id,
                    status,
                )
            _pause(min(poll_interval, remaining))

    # --- voice campaigns, updates, schedules, per-contact results -----------------------------

    def create_voice_campaign(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Create a voice campaign; the answer's id is ``id`` and its status ``Preparing``.

        Not replayed after an ambiguous failure, like an SMS create.
        """
        return parse_campaign(self.run(self.api.create_voice_campaign(payload)))

    def create_voice_campaign_once(
        self, body: Mapping[str, Any], *, if_exists: str = "reuse", created_after: datetime | None = None
    ) -> dict[str, Any]:
        """Create a voice campaign unless this very campaign exists; return it, never two.

        ``body`` is Kore's create body (see :class:`~airflow_campaign_provider.models.voice.VoiceCampaignBody`),
        checked before any HTTP call; the rest is :meth:`create_campaign_once`'s: a matching
        same-named campaign is adopted, a differing one refused naming each field, and after an
        ambiguous failure the name is looked up before any new attempt.
        """
        from airflow_campaign_provider.models.update import BodySpec

        spec = BodySpec("voice", check_campaign_body("voice", body, "body"))
        return self.create_campaign_once(spec, if_exists=if_exists, created_after=created_after)

    def create_sms_text_campaign_once(
        self, body: Mapping[str, Any], *, if_exists: str = "reuse", created_after: datetime | None = None
    ) -> dict[str, Any]:
        """Create an SMS campaign without a template (``format`` ``simple`` with the message text, or
        ``advanced`` with an experience flow), exactly once, as :meth:`create_voice_campaign_once`."""
        from airflow_campaign_provider.models.update import BodySpec

        spec = BodySpec("sms", check_campaign_body("sms", body, "body"))
        return self.create_campaign_once(spec, if_exists=if_exists, created_after=created_after)

    def update_campaign(
        self, campaign_id: str, campaign_type: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change a campaign that has not started: read it, apply ``changes``, send the full object.

        ``changes`` uses Kore's field names (``{"dialingStrategy": {"maxRingTime": 45}}``); objects
        merge key by key, lists and values are replaced, None removes a field. The merged body is
        checked against the documented rules before the PUT; a campaign that is not Preparing,
        Ready or Scheduled is refused naming its status, and nothing is sent.
        """
        from airflow_campaign_provider.models.update import UPDATABLE_STATUSES, editable_body, merged

        kind = CampaignType.parse(campaign_type).value
        if not isinstance(changes, Mapping) or not changes:
            raise InvalidCampaignArgumentError("changes", f"must be a non-empty mapping, got {changes!r}")
        campaign = self.get_campaign(campaign_id)
        status = campaign.get("status")
        if status not in UPDATABLE_STATUSES:
            raise CampaignStateError(
                f"Campaign {campaign_id} is {status}: only a campaign that has not started "
                f"({', '.join(UPDATABLE_STATUSES)}) is updated; nothing was sent."
            )
        body = check_campaign_body(
            kind, merged(editable_body(campaign, kind), changes), "changes", UPDATE_HINTS
        )
        return parse_campaign(self.run(self.api.update_campaign(campaign_id, kind, body)))

    def set_campaign_schedule(self, campaign_name: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """One schedule call, keyed by name: ``body`` enables, None disables; ``{status, message, id}``."""
        return parse_schedule(self.run(self.api.set_schedule(campaign_name, body)))

    # Schedules by name: the units of lifecycle.schedule, called with this hook.
    enable_campaign_schedule = schedule.enable_campaign_schedule
    disable_campaign_schedule = schedule.disable_campaign_schedule

    def iter_contact_results(self, campaign_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """A voice campaign's per-contact results, page by page (one call per page, at most 100 rows),
        through the bounded pager (:mod:`.paging`): no row twice, however the pages repeat."""

        def fetch(index: int, _read: int) -> Page:
            result = parse_contact_results(
                self.run(self.api.contact_results(campaign_id, index + 1, page_size))
            )
            return Page(result.results, None, result.total_pages)

        for rows in pages(
            fetch,
            what=f"the results of campaign {campaign_id}",
            page_size=page_size,
            max_pages=MAX_RESULT_PAGES,
            method="POST",
            path=self.api.contact_results(campaign_id, 1, 1).path,
        ):
            yield from rows

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


def _not_startable(campaign_id: str, status: str) -> str:
    """Why a campaign in ``status`` is not started."""
    reasons = {
        CampaignStatus.PREPARING.value: "it is still being prepared; start it once it is Ready",
        CampaignStatus.COMPLETED.value: "it has already run; starting it again could message its contacts twice",
        CampaignStatus.STOPPED.value: "it was stopped; restarting it is a decision for a person in Kore.ai",
        CampaignStatus.PAUSED.value: "it is paused; resume it in Kore.ai",
        CampaignStatus.SCHEDULED.value: "it starts on its own schedule",
        CampaignStatus.RESCHEDULED.value: "it starts on its own schedule",
    }
    reason = reasons.get(status, "only a Ready campaign is started")
    return f"Campaign {campaign_id} is {status}, not Ready: {reason}."


def body_model(campaign_type: str, body: Mapping[str, Any]) -> type[BaseModel]:
    """The model a create or update body of ``campaign_type`` is checked with."""
    from airflow_campaign_provider.models.campaign import sms_body_model
    from airflow_campaign_provider.models.voice import VoiceCampaignBody

    return VoiceCampaignBody if campaign_type == "voice" else sms_body_model(dict(body))


#: Why an update may have to repeat a field: Kore's GET answer does not show it as a PUT takes it.
UPDATE_HINTS = {
    "experienceFlowName": "Kore's GET answer shows only the flow's id, so an update passes the name again",
    "enableMachineDetect": "Kore's GET answer shows only whether detection is on, so an update passes it again",
}


def check_campaign_body(
    campaign_type: str, body: Mapping[str, Any], argument: str, hints: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``body`` checked against the documented rules of its campaign type; every problem is named
    ``<argument>.<wire path>`` in one error, before any HTTP call. ``hints`` add why, by field."""
    from airflow_campaign_provider.models.checks import validate

    model, problems = validate(body_model(campaign_type, body), body)
    if model is None:
        hints = hints or {}
        raise CampaignArgumentsError(
            [
                (f"{argument}.{field}", f"{rule} ({hints[field]})" if field in hints else rule)
                for field, rule in problems
            ]
        )
    return model.model_dump(exclude_none=True)


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
