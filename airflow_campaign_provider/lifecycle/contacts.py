"""Contact lists exactly once: create a list once, upload each number once, wait, delete once.

Each unit takes a hook (anything with the contact-list calls of :class:`ContactListCalls`), so an
operator, a TaskFlow task or a script gets the same guarantees with one call.

Kore imports added contacts asynchronously and documents no batch cap, so an upload reads what
the list already holds (numbers compared by their parsed value, :mod:`..phones`: Kore writes
them without ``+``), sends only the rest in batches that shrink when one is refused as too large,
and waits until the list's ``totalRecordCount`` shows every contact. An ``addContacts`` answered
with a 5xx, a timeout or a dropped connection may have been applied: it is *settled* (a bounded
wait for the list to show the batch) before anything is sent again — on the same try, and on the
next one (``settle_first``) before the list is read.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import record_count
from airflow_campaign_provider.exceptions import (
    CampaignApiError,
    CampaignNotFoundError,
    CampaignOutcomeUnknownError,
    CampaignServerError,
    CampaignValidationError,
    ContactImportTimeoutError,
    ContactListConflictError,
    ContactListInUseError,
    ContactUploadError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.lifecycle import DEFAULT_BATCH_SIZE
from airflow_campaign_provider.models.contact_list import ContactListCreate, checked
from airflow_campaign_provider.phones import PhoneNumberProblem, phone_key, to_e164
from airflow_campaign_provider.status import RUNNING_STATUSES, TERMINAL_STATUSES

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

log = logging.getLogger(__name__)

#: Words with which a server refuses a batch for its size (Kore documents no cap, nor its answer).
_TOO_LARGE = re.compile(r"too large|too many|at most|maximum|payload", re.IGNORECASE)
_NEVER_STARTED = frozenset({"Preparing", "Ready"})
#: Answers after which an ``addContacts`` may or may not have been applied.
AMBIGUOUS = (CampaignOutcomeUnknownError, CampaignServerError)
#: How often one batch is sent again after ambiguous answers it was settled as not applied.
MAX_RESENDS = 3


class ContactListCalls(Protocol):
    """The hook calls these units make (``CampaignHook`` has them all)."""

    def create_contact_list(
        self, name: str, description: str, allow_duplicates: bool = False
    ) -> dict[str, Any]: ...
    def get_contact_list(self, contact_list_id: str) -> dict[str, Any]: ...
    def find_contact_list_by_name(self, name: str) -> dict[str, Any] | None: ...
    def delete_contact_list(self, contact_list_id: str) -> dict[str, Any]: ...
    def iter_contacts(self, contact_list_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]: ...
    def add_contacts(self, contact_list_name: str, phones: list[str]) -> str: ...
    def get_campaign_status(self, campaign_id: str) -> str: ...
    def stop_campaign_if_running(self, campaign_id: str, campaign_type: str = "sms") -> str: ...
    def iter_campaigns(
        self, campaign_type: str = "sms", statuses: Iterable[str] | None = None, page_size: int = 50
    ) -> Iterator[dict[str, Any]]: ...


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
    """What an upload did; ``rejected`` (unreadable rows) is filled in by whoever read the source."""

    contact_list_id: str
    contact_list_name: str
    sent: int = 0
    already_present: int = 0
    repeated_in_input: int = 0
    rejected: int = 0
    add_calls: int = 0
    settled: int = 0
    batch_size: int = DEFAULT_BATCH_SIZE
    total_in_list: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, for XCom."""
        return asdict(self)


@dataclass(frozen=True)
class Waits:
    """How long an upload waits: for the import to show everything, between two reads, and how
    long a list's count must stay still to count as settled."""

    count_timeout: float = 600.0
    poll_interval: float = 5.0
    settle_seconds: float = 30.0


def _same_name(contact_list: dict[str, Any], name: str) -> bool:
    shown = str(contact_list.get("lname") or contact_list.get("name") or "")
    return shown.strip().lower() == name.strip().lower()


def find_contact_list_by_name(lists: Iterable[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The list whose name matches case-insensitively, or None."""
    return next((cl for cl in lists if _same_name(cl, name)), None)


# --- create once -----------------------------------------------------------------------------


def create_contact_list_once(
    hook: ContactListCalls, name: str, description: str, allow_duplicates: bool = False
) -> tuple[dict[str, Any], bool]:
    """The list of this name: reused when its settings match, else created. ``(list, created)``.

    A differing list raises ``ContactListConflictError``. A create whose answer was lost is
    settled by looking the name up before any second attempt.
    """
    body = checked(ContactListCreate, name=name, description=description, allowDuplicates=allow_duplicates)
    existing = hook.find_contact_list_by_name(body.name)
    if existing is not None:
        return _matching(existing, body), False
    try:
        return hook.create_contact_list(name, description, allow_duplicates), True
    except (CampaignOutcomeUnknownError, CampaignValidationError) as error:
        found = hook.find_contact_list_by_name(body.name)
        if found is None:
            if isinstance(error, CampaignValidationError):
                raise
            log.warning("Creating contact list %r got no answer and it does not exist.", name)
            return hook.create_contact_list(name, description, allow_duplicates), True
        log.info("Contact list %r exists after an unclear create; using it.", name)
        return _matching(found, body), True


def _matching(existing: dict[str, Any], body: ContactListCreate) -> dict[str, Any]:
    differences = [
        f"{field} is {existing.get(field)!r}, wanted {wanted!r}"
        for field, wanted in (("description", body.description), ("allowDuplicates", body.allowDuplicates))
        if existing.get(field) != wanted
    ]
    if differences:
        raise ContactListConflictError(
            f"contact list {body.name!r} ({existing.get('_id')}) exists with other settings: "
            f"{'; '.join(differences)}. Use another name, or delete or update that list."
        )
    return existing


# --- upload once -----------------------------------------------------------------------------


class _Upload:
    """One upload's state: the report, the batch size, the count the list should reach."""

    def __init__(self, hook: ContactListCalls, contact_list: dict[str, Any], batch_size: int, waits: Waits):
        self.hook = hook
        self.waits = waits
        self.keeps_duplicates = bool(contact_list.get("allowDuplicates"))
        self.report = UploadReport(
            str(contact_list["_id"]), str(contact_list.get("name")), batch_size=batch_size
        )
        self.sizer = BatchSizer(batch_size)
        self.expected = record_count(contact_list)

    def send(self, batch: list[str]) -> None:
        """Send ``batch``, ``sizer.size`` contacts a call; an ambiguous answer is settled first."""
        pending, resends = batch, 0
        while pending:
            part = pending[: self.sizer.size]
            try:
                self.report.add_calls += 1
                self.hook.add_contacts(self.report.contact_list_name, part)
            except AMBIGUOUS as error:
                if self._landed(part, error):
                    self._accepted(part)
                    pending = pending[len(part) :]
                    continue
                if self.keeps_duplicates or resends >= MAX_RESENDS:
                    raise self.stopped(
                        part,
                        f"a batch got an unclear answer ({error}) and never showed in the list, "
                        "so it was not sent again",
                    ) from error
                resends += 1
                log.warning(
                    "A batch of %d contacts did not show after %s; sending it again.", len(part), error
                )
                continue
            except CampaignApiError as error:
                if not _refused_as_too_large(error) or len(part) == 1:
                    raise self.stopped(part, f"a batch was refused: {error}") from error
                self.sizer.refused_at(len(part))
                log.warning(
                    "A batch of %d contacts was refused as too large; sending %d at a time.",
                    len(part),
                    self.sizer.size,
                )
                continue
            self._accepted(part)
            pending = pending[len(part) :]

    def _accepted(self, part: list[str]) -> None:
        self.sizer.accepted_at(len(part))
        self.report.sent += len(part)
        self.expected += len(part)

    def _landed(self, part: list[str], error: Exception) -> bool:
        """Settle an ambiguous ``addContacts``: wait, bounded, for the list to show the batch."""
        log.warning(
            "Adding %d contacts to %r got an unclear answer (%s): it may have been applied; waiting "
            "up to %gs for the list to show it before anything is sent again.",
            len(part),
            self.report.contact_list_name,
            error,
            self.waits.count_timeout,
        )
        self.report.settled += 1
        try:
            wait_for_contact_count(
                self.hook, self.report.contact_list_id, self.expected + len(part), self.waits, self.report
            )
        except ContactImportTimeoutError:
            return False
        return True

    def stopped(self, part: list[str], why: str) -> ContactUploadError:
        report = self.report
        return ContactUploadError(
            f"Upload to contact list {report.contact_list_name!r} stopped after sending {report.sent} "
            f"contacts ({report.already_present} were already there): {why}. {len(part)} contacts of "
            "that batch and any after it were not sent; a retry settles the list, reads it and sends "
            "only the rest.",
            sent=report.sent,
            already_present=report.already_present,
        )


def upload_contacts_once(
    hook: ContactListCalls,
    contact_list_id: str,
    phones: Iterable[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    count_timeout: float = 600.0,
    poll_interval: float = 5.0,
    default_region: str | None = None,
    settle_first: bool = False,
    settle_seconds: float = 30.0,
) -> UploadReport:
    """Add the numbers the list lacks, each once, and wait until the list holds them all.

    ``phones`` are read with :func:`..phones.to_e164` (``default_region`` for national numbers)
    and sent as E.164; one number written twice is sent once, and one the list holds in any
    writing (Kore's digits without ``+``) is not sent. ``settle_first`` (set on a retry: an
    earlier try may have left an import in flight) waits until the list's count has stood still
    for ``settle_seconds`` before reading it; so does an upload to a list that keeps duplicates. A batch refused as too large is split; one answered ambiguously is
    settled before any re-send (see the module docstring).
    """
    if batch_size < 1:
        raise InvalidCampaignArgumentError("batch_size", f"must be >= 1, got {batch_size}")
    waits = Waits(count_timeout, poll_interval, settle_seconds)
    contact_list = hook.get_contact_list(contact_list_id)
    if settle_first or contact_list.get("allowDuplicates"):
        contact_list = settled_list(hook, contact_list, waits)
    upload = _Upload(hook, contact_list, batch_size, waits)
    report = upload.report
    present = (
        {phone_key(c.get("phoneNumber")) for c in hook.iter_contacts(contact_list_id)}
        if upload.expected
        else set()
    )
    seen: set[str] = set()
    batch: list[str] = []
    for phone in phones:
        try:
            e164 = to_e164(phone, default_region)
        except PhoneNumberProblem as error:
            raise upload.stopped(batch, f"phones: {error}") from None
        if e164 in seen:
            report.repeated_in_input += 1
            continue
        seen.add(e164)
        if e164 in present:
            report.already_present += 1
            continue
        batch.append(e164)
        if len(batch) >= upload.sizer.size:
            upload.send(batch)
            batch = []
    if batch:
        upload.send(batch)
    report.batch_size = upload.sizer.size
    final = wait_for_contact_count(hook, contact_list_id, upload.expected, waits, report)
    report.total_in_list = record_count(final)
    return report


def wait_for_contact_count(
    hook: ContactListCalls,
    contact_list_id: str,
    expected: int,
    waits: Waits,
    report: UploadReport | None = None,
) -> dict[str, Any]:
    """Poll the list until ``totalRecordCount`` reaches ``expected``; the list as last read."""
    deadline = clock.monotonic() + waits.count_timeout
    while True:
        contact_list = hook.get_contact_list(contact_list_id)
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
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            raise ContactImportTimeoutError(
                f"contact list {contact_list_id} holds {count} of the {expected} contacts expected "
                f"after {waits.count_timeout:g}s: Kore accepted every batch but has not imported them "
                "all yet.",
                sent=report.sent if report else 0,
                already_present=report.already_present if report else 0,
            )
        clock.sleep(min(waits.poll_interval, remaining))


def settled_list(hook: ContactListCalls, contact_list: dict[str, Any], waits: Waits) -> dict[str, Any]:
    """The list once its count has not moved for ``settle_seconds`` (at most ``count_timeout``
    more while it keeps moving): an import an earlier try started has landed by then, or is taken
    as never landing."""
    deadline = clock.monotonic() + waits.settle_seconds + waits.count_timeout
    count, since = record_count(contact_list), clock.monotonic()
    while clock.monotonic() - since < waits.settle_seconds and clock.monotonic() < deadline:
        clock.sleep(max(min(waits.poll_interval, waits.settle_seconds), 0.001))
        contact_list = hook.get_contact_list(str(contact_list["_id"]))
        latest = record_count(contact_list)
        if latest != count:
            count, since = latest, clock.monotonic()
    return contact_list


def _refused_as_too_large(error: CampaignApiError) -> bool:
    if error.status_code == 413:
        return True
    return isinstance(error, CampaignValidationError) and bool(_TOO_LARGE.search(error.kore_message))


# --- delete once -----------------------------------------------------------------------------


def delete_contact_list_once(
    hook: ContactListCalls,
    contact_list_id: str,
    *,
    missing_ok: bool = False,
    stop_running_campaigns: bool = False,
) -> dict[str, Any] | None:
    """Delete a list no running campaign uses; the deleted list, or None when already gone.

    A running SMS or voice campaign that names the list (in ``campaignInUse`` or in its
    ``contactLists``) makes it refuse with ``ContactListInUseError``, unless
    ``stop_running_campaigns`` says to stop those campaigns first. A campaign whose status is
    unknown counts as running.
    """
    try:
        contact_list = hook.get_contact_list(contact_list_id)
    except CampaignNotFoundError:
        if missing_ok:
            return None
        raise
    running = running_campaigns_using(hook, contact_list)
    if running and not stop_running_campaigns:
        named = ", ".join(f"{campaign_id} ({kind})" for campaign_id, kind in running)
        raise ContactListInUseError(
            f"contact list {contact_list.get('name')!r} ({contact_list_id}) is used by running "
            f"campaign(s) {named}; stop them first or set stop_running_campaigns=True."
        )
    for campaign_id, kind in running:
        log.info("Stopping %s campaign %s, which uses contact list %s.", kind, campaign_id, contact_list_id)
        hook.stop_campaign_if_running(campaign_id, kind)
    try:
        return hook.delete_contact_list(contact_list_id)
    except CampaignNotFoundError:  # a replayed delete whose first answer was lost
        if missing_ok:
            return None
        raise


def campaign_ids_in_use(contact_list: dict[str, Any]) -> set[str]:
    """The campaign ids of ``campaignInUse``: objects ``{name, id}`` as Kore's sample writes
    them, or plain id strings."""
    ids = set()
    for entry in contact_list.get("campaignInUse") or ():
        value = entry.get("id") or entry.get("_id") if isinstance(entry, dict) else entry
        if isinstance(value, str) and value.strip():
            ids.add(value.strip())
    return ids


def running_campaigns_using(hook: ContactListCalls, contact_list: dict[str, Any]) -> list[tuple[str, str]]:
    """``(campaign id, type)`` of every SMS or voice campaign using the list that may be running."""
    name = str(contact_list.get("name") or "")
    kinds: dict[str, str] = {}
    in_use = campaign_ids_in_use(contact_list)
    for kind in ("sms", "voice"):
        for campaign in hook.iter_campaigns(kind, statuses=sorted(RUNNING_STATUSES)):
            campaign_id = str(campaign.get("_id") or campaign.get("id") or "")
            kinds[campaign_id] = kind
            if campaign_id and name in (campaign.get("contactLists") or ()):
                in_use.add(campaign_id)
    running = []
    for campaign_id in sorted(in_use):
        try:
            status = hook.get_campaign_status(campaign_id)
        except CampaignNotFoundError:
            continue
        if status not in TERMINAL_STATUSES and status not in _NEVER_STARTED:
            running.append((campaign_id, kinds.get(campaign_id, "sms")))
    return running
