"""Contact lists on ``CampaignHook``: the calls, and the exactly-once create, upload and delete.

Kore imports added contacts asynchronously and documents no batch cap, so an upload reads what
the list already holds, sends only the rest in batches that shrink when one is refused as too
large, never replays a batch blindly on a list that keeps duplicates, and waits until the list's
``totalRecordCount`` shows every contact. Every call of this module is paced to the account's
request budget, and goes through the hook's normal request path (``run``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.api import (
    ContactListRequests,
    parse_contact_list,
    parse_contact_lists,
    parse_contacts_page,
    parse_contacts_queued,
    record_count,
)
from airflow_campaign_provider.exceptions import (
    CampaignApiError,
    CampaignNotFoundError,
    CampaignOutcomeUnknownError,
    CampaignValidationError,
    ContactImportTimeoutError,
    ContactListConflictError,
    ContactListInUseError,
    ContactUploadError,
)
from airflow_campaign_provider.models.contact_list import (
    AddContactsBody,
    ContactListCreate,
    ContactListUpdate,
    checked,
)
from airflow_campaign_provider.status import RUNNING_STATUSES, TERMINAL_STATUSES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from airflow_campaign_provider.api import ApiAnswer, ApiRequest
    from airflow_campaign_provider.models.connection import KoreConnectionSettings

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000
#: Words with which a server refuses a batch for its size (Kore documents no cap, nor its answer).
_TOO_LARGE = re.compile(r"too large|too many|at most|maximum|payload", re.IGNORECASE)
_NEVER_STARTED = frozenset({"Preparing", "Ready"})


#: How often a batch whose answer was lost is sent again to a list that refuses duplicates.
MAX_RESENDS = 3


def _sleep(seconds: float) -> None:
    """Waiting between polls; a seam tests replace (with ``_now``) so waits cost no wall time."""
    time.sleep(seconds)


def _now() -> float:
    return time.monotonic()


class RequestPacer:
    """At most ``capacity`` calls in any ``window_seconds``: a sliding window, like Kore's.

    A call's slot is dated when its answer arrives, not when it leaves: Kore admitted it in
    between, so the window Kore sees never holds more than ``capacity`` of these calls, however
    the network delays them.
    """

    def __init__(
        self, capacity: int, window_seconds: float, clock: Callable[[], float] | None = None
    ) -> None:
        self.capacity = capacity
        self.window_seconds = window_seconds
        self._clock = clock or _now
        self._slots: deque[list[float]] = deque()  # [answered at], oldest first; inf while in flight
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait until one more call fits in the window, and hold its slot while it runs."""
        with self._lock:
            while True:
                now = self._clock()
                while self._slots and self._slots[0][0] <= now - self.window_seconds:
                    self._slots.popleft()
                if len(self._slots) < self.capacity:
                    entry = [float("inf")]
                    self._slots.append(entry)
                    break
                _sleep(max(self._slots[0][0] + self.window_seconds - now, 0.001))
        try:
            yield
        finally:
            with self._lock:
                entry[0] = self._clock()
                ordered = sorted(self._slots, key=lambda item: item[0])
                self._slots.clear()
                self._slots.extend(ordered)


@dataclass
class BatchSizer:
    """The batch size, found by bisection once Kore refuses one as too large.

    Kore documents no cap. A refused size halves the next batch; once one is accepted, the
    size steps half-way back towards the smallest refused one, until the two are within 10 %.
    """

    size: int
    accepted: int = 0
    refused: int | None = None

    def refused_at(self, size: int) -> None:
        """A batch of ``size`` was refused as too large."""
        self.refused = size if self.refused is None else min(self.refused, size)
        self.size = max(1, (self.accepted + size) // 2 if self.accepted else size // 2)

    def accepted_at(self, size: int) -> None:
        """A batch of ``size`` was accepted."""
        self.accepted = max(self.accepted, size)
        if self.refused is not None and self.refused - self.accepted > max(1, self.accepted // 10):
            self.size = (self.accepted + self.refused) // 2


@dataclass
class UploadReport:
    """What an upload did; ``rejected`` (invalid rows) is filled in by whoever read the source."""

    contact_list_id: str
    contact_list_name: str
    sent: int = 0
    already_present: int = 0
    repeated_in_input: int = 0
    rejected: int = 0
    add_calls: int = 0
    batch_size: int = DEFAULT_BATCH_SIZE
    total_in_list: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, for XCom."""
        return asdict(self)


def _refused_as_too_large(error: CampaignApiError) -> bool:
    if error.status_code == 413:
        return True
    return isinstance(error, CampaignValidationError) and bool(_TOO_LARGE.search(error.kore_message))


def _same_name(contact_list: dict[str, Any], name: str) -> bool:
    shown = str(contact_list.get("lname") or contact_list.get("name") or "")
    return shown.strip().lower() == name.strip().lower()


class ContactListHookMixin:
    """The contact-list half of ``CampaignHook``, which supplies ``run`` and ``settings``."""

    #: Kore's budget window; the benchmark scales it with the rest of time.
    budget_window_seconds: float = 60.0

    if TYPE_CHECKING:

        @property
        def settings(self) -> KoreConnectionSettings: ...

        def run(self, request: ApiRequest) -> ApiAnswer: ...
        def get_campaign_status(self, campaign_id: str) -> str: ...
        def stop_campaign_if_running(self, campaign_id: str, campaign_type: str = "sms") -> str: ...
        def iter_campaigns(
            self, campaign_type: str = "sms", statuses: Iterable[str] | None = None, page_size: int = 50
        ) -> Iterator[dict[str, Any]]: ...

    @cached_property
    def contact_list_api(self) -> ContactListRequests:
        """Builds every contact-list request for this connection."""
        return ContactListRequests(self.settings)

    @cached_property
    def pacer(self) -> RequestPacer:
        """Keeps this hook's contact-list calls inside the connection's ``requests_per_minute``."""
        return RequestPacer(self.settings.requests_per_minute, self.budget_window_seconds)

    def _call(self, request: ApiRequest) -> ApiAnswer:
        with self.pacer.slot():
            return self.run(request)

    # --- the calls ----------------------------------------------------------------------------

    def create_contact_list(
        self, name: str, description: str, allow_duplicates: bool = False
    ) -> dict[str, Any]:
        """Create an empty list (``source: passiveApi``); its id is ``_id``. Not replayed blindly."""
        body = checked(
            ContactListCreate, name=name, description=description, allowDuplicates=allow_duplicates
        )
        return parse_contact_list(self._call(self.contact_list_api.create_contact_list(body)))

    def get_contact_list(self, contact_list_id: str) -> dict[str, Any]:
        """A list's details, ``totalRecordCount`` and ``campaignInUse`` included."""
        return parse_contact_list(self._call(self.contact_list_api.get_contact_list(contact_list_id)))

    def iter_contact_lists(self) -> Iterator[dict[str, Any]]:
        """Every contact list of the account (Kore answers them in one page)."""
        yield from parse_contact_lists(self._call(self.contact_list_api.list_contact_lists()))

    def find_contact_list_by_name(self, name: str) -> dict[str, Any] | None:
        """The list whose name matches case-insensitively, or None."""
        return next((cl for cl in self.iter_contact_lists() if _same_name(cl, name)), None)

    def update_contact_list(
        self, contact_list_id: str, *, name: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        """Rename and/or describe a list; answers ``{contactListId, body}``."""
        body = checked(ContactListUpdate, name=name, description=description)
        answer = self._call(self.contact_list_api.update_contact_list(contact_list_id, body))
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        if not isinstance(data, dict):
            raise answer.fail("answer lacks data")
        return data

    def delete_contact_list(self, contact_list_id: str) -> dict[str, Any]:
        """Delete a list; answers the deleted list."""
        return parse_contact_list(self._call(self.contact_list_api.delete_contact_list(contact_list_id)))

    def iter_contacts(self, contact_list_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """A list's contacts, page by page, one call per page."""
        skip = 0
        while True:
            page = parse_contacts_page(
                self._call(self.contact_list_api.list_contacts(contact_list_id, skip, page_size))
            )
            yield from page.results
            skip += len(page.results)
            if not page.results or not page.has_more:
                return

    def add_contacts(self, contact_list_name: str, phones: list[str]) -> str:
        """One ``addContacts`` call (validated first); answers Kore's "in progress" message."""
        body = checked(
            AddContactsBody,
            contact_list_name=contact_list_name,
            data=[{"phoneNumber": phone} for phone in phones],
        )
        return parse_contacts_queued(self._call(self.contact_list_api.add_contacts(body)))

    # --- exactly once ----------------------------------------------------------------------------

    def create_contact_list_once(
        self, name: str, description: str, allow_duplicates: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """The list of this name: reused when its settings match, else created. ``(list, created)``.

        A differing list raises ``ContactListConflictError``. A create whose answer was lost is
        settled by looking the name up before any second attempt.
        """
        body = checked(
            ContactListCreate, name=name, description=description, allowDuplicates=allow_duplicates
        )
        existing = self.find_contact_list_by_name(body.name)
        if existing is not None:
            return self._matching(existing, body), False
        try:
            return self.create_contact_list(name, description, allow_duplicates), True
        except (CampaignOutcomeUnknownError, CampaignValidationError) as error:
            found = self.find_contact_list_by_name(body.name)
            if found is None:
                if isinstance(error, CampaignValidationError):
                    raise
                log.warning("Creating contact list %r got no answer and it does not exist.", name)
                return self.create_contact_list(name, description, allow_duplicates), True
            log.info("Contact list %r exists after an unclear create; using it.", name)
            return self._matching(found, body), True

    @staticmethod
    def _matching(existing: dict[str, Any], body: ContactListCreate) -> dict[str, Any]:
        differences = [
            f"{field} is {existing.get(field)!r}, wanted {wanted!r}"
            for field, wanted in (
                ("description", body.description),
                ("allowDuplicates", body.allowDuplicates),
            )
            if existing.get(field) != wanted
        ]
        if differences:
            raise ContactListConflictError(
                f"contact list {body.name!r} ({existing.get('_id')}) exists with other settings: "
                f"{'; '.join(differences)}. Use another name, or delete or update that list."
            )
        return existing

    def upload_contacts_once(
        self,
        contact_list_id: str,
        phones: Iterable[str],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        count_timeout: float = 600.0,
        poll_interval: float = 5.0,
    ) -> UploadReport:
        """Add the numbers the list lacks, each once, and wait until the list holds them all.

        ``phones`` must already be valid (E.164); a number repeated in it is sent once. What the
        list holds is read first, so a retry after a failure sends only the rest. A batch
        refused as too large is split in halves, and later batches keep the smaller size. After
        a lost answer a batch is sent again only to a list that refuses duplicates; on one that
        keeps them the upload waits for the batch to show, or stops saying how far it got.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size: must be >= 1, got {batch_size}")
        contact_list = self.get_contact_list(contact_list_id)
        keeps_duplicates = bool(contact_list.get("allowDuplicates"))
        if keeps_duplicates:  # an import from an earlier attempt may still be landing
            contact_list = self._settled(
                contact_list_id, record_count(contact_list), poll_interval, count_timeout
            )
        report = UploadReport(contact_list_id, str(contact_list.get("name")), batch_size=batch_size)
        sizer = BatchSizer(batch_size)
        count = record_count(contact_list)
        present = {str(c.get("phoneNumber")) for c in self.iter_contacts(contact_list_id)} if count else set()
        seen: set[str] = set()
        batch: list[str] = []
        expected = count
        for phone in phones:
            if phone in seen:
                report.repeated_in_input += 1
                continue
            seen.add(phone)
            if phone in present:
                report.already_present += 1
                continue
            batch.append(phone)
            if len(batch) >= sizer.size:
                expected = self._send_batch(
                    report, sizer, batch, expected, keeps_duplicates, poll_interval, count_timeout
                )
                batch = []
        if batch:
            expected = self._send_batch(
                report, sizer, batch, expected, keeps_duplicates, poll_interval, count_timeout
            )
        report.batch_size = sizer.size
        report.total_in_list = record_count(
            self.wait_for_contact_count(contact_list_id, expected, count_timeout, poll_interval, report)
        )
        return report

    def _send_batch(
        self,
        report: UploadReport,
        sizer: BatchSizer,
        batch: list[str],
        expected: int,
        keeps_duplicates: bool,
        poll_interval: float,
        count_timeout: float,
    ) -> int:
        """Send ``batch``, ``sizer.size`` contacts a call; the count the list should then reach."""
        pending = batch
        resends = 0
        while pending:
            part = pending[: sizer.size]
            try:
                report.add_calls += 1
                self.add_contacts(report.contact_list_name, part)
            except CampaignOutcomeUnknownError as error:
                if not keeps_duplicates and resends < MAX_RESENDS:
                    resends += 1
                    log.warning(
                        "Adding %d contacts got no answer; the list refuses duplicates, so "
                        "they are sent again: %s",
                        len(part),
                        error,
                    )
                    continue
                self._landed_or_stop(report, part, expected, poll_interval, count_timeout, error)
            except CampaignApiError as error:
                if not _refused_as_too_large(error) or len(part) == 1:
                    raise self._stopped(report, part, f"a batch was refused: {error}") from error
                sizer.refused_at(len(part))
                log.warning(
                    "A batch of %d contacts was refused as too large; sending %d at a time.",
                    len(part),
                    sizer.size,
                )
                continue
            sizer.accepted_at(len(part))
            report.sent += len(part)
            expected += len(part)
            pending = pending[len(part) :]
        return expected

    def _landed_or_stop(
        self,
        report: UploadReport,
        part: list[str],
        expected: int,
        poll_interval: float,
        count_timeout: float,
        error: Exception,
    ) -> None:
        """After a lost answer on a list that keeps duplicates: wait for the batch to show."""
        try:
            self.wait_for_contact_count(
                report.contact_list_id, expected + len(part), count_timeout, poll_interval, report
            )
        except ContactImportTimeoutError:
            raise self._stopped(
                report,
                part,
                f"a batch got no answer ({error}) and never showed in the "
                "list, which keeps duplicates, so it was not sent again",
            ) from error

    @staticmethod
    def _stopped(report: UploadReport, part: list[str], why: str) -> ContactUploadError:
        return ContactUploadError(
            f"Upload to contact list {report.contact_list_name!r} stopped after sending {report.sent} "
            f"contacts ({report.already_present} were already there): {why}. {len(part)} contacts of "
            "that batch and any after it were not sent; a retry reads the list and sends only the rest.",
            sent=report.sent,
            already_present=report.already_present,
        )

    def wait_for_contact_count(
        self,
        contact_list_id: str,
        expected: int,
        timeout: float,
        poll_interval: float,
        report: UploadReport | None = None,
    ) -> dict[str, Any]:
        """Poll the list until ``totalRecordCount`` reaches ``expected``; the list as last read."""
        deadline = _now() + timeout
        while True:
            contact_list = self.get_contact_list(contact_list_id)
            count = record_count(contact_list)
            if count >= expected:
                if count > expected:
                    log.warning(
                        "Contact list %s holds %d contacts, %d more than this upload expects: "
                        "someone else adds to it.",
                        contact_list_id,
                        count,
                        count - expected,
                    )
                return contact_list
            remaining = deadline - _now()
            if remaining <= 0:
                raise ContactImportTimeoutError(
                    f"contact list {contact_list_id} holds {count} of the {expected} contacts expected "
                    f"after {timeout:g}s: Kore accepted every batch but has not imported them all yet.",
                    sent=report.sent if report else 0,
                    already_present=report.already_present if report else 0,
                )
            _sleep(min(poll_interval, remaining))

    def _settled(
        self, contact_list_id: str, count: int, poll_interval: float, timeout: float
    ) -> dict[str, Any]:
        """The list once two reads ``poll_interval`` apart show the same count."""
        deadline = _now() + timeout
        while True:
            _sleep(poll_interval)
            contact_list = self.get_contact_list(contact_list_id)
            if record_count(contact_list) == count or _now() >= deadline:
                return contact_list
            count = record_count(contact_list)

    def delete_contact_list_once(
        self, contact_list_id: str, *, missing_ok: bool = False, stop_running_campaigns: bool = False
    ) -> dict[str, Any] | None:
        """Delete a list no running campaign uses; the deleted list, or None when already gone.

        A running campaign that names the list (in ``campaignInUse`` or in its ``contactLists``)
        makes it refuse with ``ContactListInUseError``, unless ``stop_running_campaigns`` says to
        stop those campaigns first. A campaign whose status is unknown counts as running.
        """
        try:
            contact_list = self.get_contact_list(contact_list_id)
        except CampaignNotFoundError:
            if missing_ok:
                return None
            raise
        running = self._running_campaigns_using(contact_list)
        if running and not stop_running_campaigns:
            raise ContactListInUseError(
                f"contact list {contact_list.get('name')!r} ({contact_list_id}) is used by running "
                f"campaign(s) {', '.join(running)}; stop them first or set stop_running_campaigns=True."
            )
        for campaign_id in running:
            log.info("Stopping campaign %s, which uses contact list %s.", campaign_id, contact_list_id)
            self.stop_campaign_if_running(campaign_id)
        try:
            return self.delete_contact_list(contact_list_id)
        except CampaignNotFoundError:  # a replayed delete whose first answer was lost
            if missing_ok:
                return None
            raise

    def _running_campaigns_using(self, contact_list: dict[str, Any]) -> list[str]:
        name = str(contact_list.get("name") or "")
        in_use = {str(cid) for cid in contact_list.get("campaignInUse") or () if cid}
        in_use.update(
            str(campaign.get("_id") or campaign.get("id"))
            for campaign in self.iter_campaigns("sms", statuses=sorted(RUNNING_STATUSES))
            if name in (campaign.get("contactLists") or ())
        )
        running = []
        for campaign_id in sorted(in_use):
            try:
                status = self.get_campaign_status(campaign_id)
            except CampaignNotFoundError:
                continue
            if status not in TERMINAL_STATUSES and status not in _NEVER_STARTED:
                running.append(campaign_id)
        return running
