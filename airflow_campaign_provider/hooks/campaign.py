"""CampaignHook: one thin method per Kore.ai Campaign Management API v2 call, over the transport.

Connection, auth and HTTP live in :mod:`~airflow_campaign_provider.hooks.transport`; the
exactly-once guarantees (create once, start once, stop if running, delete if exists, wait) live in
:mod:`airflow_campaign_provider.lifecycle`, each a function taking a hook, and are bound here
under their method names so ``hook.create_campaign_once(...)`` keeps working. Importing this
module stays cheap (DAG files may import it): ``requests`` and ``jwt`` load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._lazy import lazy_names
from airflow_campaign_provider.api import (
    CampaignPage,
    parse_campaign,
    parse_contact_results,
    parse_deleted,
    parse_page,
    parse_schedule,
    parse_status,
    parse_trigger,
)
from airflow_campaign_provider.exceptions import (
    CampaignError,
    CampaignNotFoundError,
)
from airflow_campaign_provider.hooks.base import DEFAULT_TIMEOUT, CampaignHookBase
from airflow_campaign_provider.hooks.contact_list import ContactListHookMixin
from airflow_campaign_provider.hooks.transport import CampaignTransport
from airflow_campaign_provider.lifecycle import IF_EXISTS_CHOICES, LazyUnit
from airflow_campaign_provider.models.bodies import UPDATE_HINTS, body_model, check_campaign_body
from airflow_campaign_provider.paging import MAX_CAMPAIGN_PAGES, MAX_RESULT_PAGES, Page, pages

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from functools import partialmethod

    from airflow_campaign_provider.lifecycle import (
        contacts,
        create,
        delete,
        lookup,
        schedule,
        start,
        stop,
        update,
        wait,
    )
    from airflow_campaign_provider.lifecycle.start import CampaignStart

#: What moved out of this module and is still importable from it.
__all__ = [
    "DEFAULT_TIMEOUT",
    "IF_EXISTS_CHOICES",
    "UPDATE_HINTS",
    "CampaignHook",
    "CampaignHookBase",
    "CampaignStart",
    "body_model",
    "check_campaign_body",
]


#: ``CampaignStart``, still importable from here, loaded with the start unit.
__getattr__ = lazy_names(__name__, {"CampaignStart": "airflow_campaign_provider.lifecycle.start"})


#: Per (connection, stream, campaign type, trigger): the documented path shape that worked last.
_WORKING_TRIGGER_SHAPE: dict[tuple[str, str, str, str], int] = {}


class CampaignHook(ContactListHookMixin, CampaignTransport):
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

    def create_voice_campaign(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Create a voice campaign; the answer's id is ``id`` and its status ``Preparing``.

        Not replayed after an ambiguous failure, like an SMS create.
        """
        return parse_campaign(self.run(self.api.create_voice_campaign(payload)))

    def put_campaign(self, campaign_id: str, campaign_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Replace a campaign with ``body`` (Kore's PUT takes the full object); see :meth:`update_campaign`."""
        return parse_campaign(self.run(self.api.update_campaign(campaign_id, campaign_type, body)))

    # --- the lifecycle, exactly once: each a function of lifecycle/ taking this hook ----------
    # Typed as the functions; at run time each is bound when first used (LazyUnit), so a task
    # loads only the units it calls.

    if TYPE_CHECKING:
        find_campaign_by_name = lookup.find_campaign_by_name
        campaigns_named = lookup.campaigns_named
        create_campaign_once = create.create_campaign_once
        create_sms_campaign_once = create.create_campaign_once
        create_voice_campaign_once = partialmethod(create.create_from_body_once, "voice")
        create_sms_text_campaign_once = partialmethod(create.create_from_body_once, "sms")
        start_campaign_once = start.start_campaign_once
        stop_campaign_if_running = stop.stop_campaign_if_running
        delete_campaign_if_exists = delete.delete_campaign_if_exists
        check_campaign_status = wait.check_campaign_status
        wait_for_campaign_status = wait.wait_for_campaign_status
        update_campaign = update.update_campaign
        enable_campaign_schedule = schedule.enable_campaign_schedule
        disable_campaign_schedule = schedule.disable_campaign_schedule
        create_contact_list_once = contacts.create_contact_list_once
        upload_contacts_once = contacts.upload_contacts_once
        delete_contact_list_once = contacts.delete_contact_list_once
    else:
        find_campaign_by_name = LazyUnit("lookup", "find_campaign_by_name")
        campaigns_named = LazyUnit("lookup", "campaigns_named")
        create_campaign_once = LazyUnit("create", "create_campaign_once")
        #: The SMS create of the first release; every type goes through :meth:`create_campaign_once`.
        create_sms_campaign_once = LazyUnit("create", "create_campaign_once")
        #: :func:`~airflow_campaign_provider.lifecycle.create.create_from_body_once` of each type.
        create_voice_campaign_once = LazyUnit("create", "create_from_body_once", "voice")
        create_sms_text_campaign_once = LazyUnit("create", "create_from_body_once", "sms")
        start_campaign_once = LazyUnit("start", "start_campaign_once")
        stop_campaign_if_running = LazyUnit("stop", "stop_campaign_if_running")
        delete_campaign_if_exists = LazyUnit("delete", "delete_campaign_if_exists")
        check_campaign_status = LazyUnit("wait", "check_campaign_status")
        wait_for_campaign_status = LazyUnit("wait", "wait_for_campaign_status")
        update_campaign = LazyUnit("update", "update_campaign")
        #: Schedules by name: the units of lifecycle.schedule.
        enable_campaign_schedule = LazyUnit("schedule", "enable_campaign_schedule")
        disable_campaign_schedule = LazyUnit("schedule", "disable_campaign_schedule")
        #: Contact lists: the units of lifecycle.contacts (their pydantic models load with them).
        create_contact_list_once = LazyUnit("contacts", "create_contact_list_once")
        upload_contacts_once = LazyUnit("contacts", "upload_contacts_once")
        delete_contact_list_once = LazyUnit("contacts", "delete_contact_list_once")

    # --- schedules, per-contact results, the connection test ----------------------------------

    def set_campaign_schedule(self, campaign_name: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """One schedule call, keyed by name: ``body`` enables, None disables; ``{status, message, id}``."""
        return parse_schedule(self.run(self.api.set_schedule(campaign_name, body)))

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
