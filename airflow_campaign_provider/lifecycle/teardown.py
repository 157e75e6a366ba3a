"""Teardown: stop and delete any number of campaigns, each exactly once, inside the account budget.

One call, :func:`teardown_campaigns`, takes a hook and the campaigns (ids, or a
:class:`CampaignFilter`), so an operator, a TaskFlow task or a script gets the same guarantees
(``docs/event-driven-teardown.md`` tells them whole):

* Statuses come from list pages (100 campaigns a call): an id that no longer exists costs
  nothing, a finished or never started campaign its delete, a running one its stop and delete.
  When a few ids are left to find in a long list, each is read on its own (fewer calls); an id
  missing from a list whose total changed while it was read is read on its own too.
* Each campaign is stopped at most once and deleted at most once per call, every call in a slot
  of the account's budget (``CampaignHook.pace_every_call``); ``max_workers`` threads only overlap waits.
* A campaign Kore refuses is reported ``failed`` and the rest go on; an account-wide failure
  ends the call, the rest ``not_reached``. Either way :class:`TeardownIncompleteError` carries the
  report, and calling again re-reads the statuses and finishes the rest.
* ``dry_run`` lists what would be done and sends no stop and no delete.

The list is read whole first: deleting while paging would shift campaigns into pages already read.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.api import (
    MAX_LIST_PAGES,
    CampaignType,
    campaign_id_of,
    created_at,
    validate_campaign_id,
)
from airflow_campaign_provider.exceptions import (
    CampaignArgumentsError,
    CampaignConflictError,
    CampaignError,
    CampaignNotFoundError,
    CampaignStateError,
    CampaignValidationError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.status import NOT_STARTED_STATUSES, TERMINAL_STATUSES, CampaignStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from airflow_campaign_provider.hooks.campaign import CampaignHook

log = logging.getLogger(__name__)

#: Campaigns per list call: the most Kore's list is known to take.
PAGE_SIZE = 100
#: Threads overlapping the waits for answers by default; the budget, not they, sets the pace.
DEFAULT_WORKERS = 4
PROGRESS_EVERY = 1000  # campaigns between two progress lines
#: Errors about one campaign: it is reported ``failed`` and the others go on.
_ONE_CAMPAIGN_ERRORS = (
    CampaignValidationError,
    CampaignConflictError,
    CampaignStateError,
    InvalidCampaignArgumentError,
)


class TeardownAction(str, Enum):
    """What the teardown did to one campaign (or, in a dry run, would do)."""

    STOPPED_AND_DELETED = "stopped_and_deleted"
    DELETED = "deleted"
    ALREADY_GONE = "already_gone"
    FAILED = "failed"
    NOT_REACHED = "not_reached"
    WOULD_STOP_AND_DELETE = "would_stop_and_delete"
    WOULD_DELETE = "would_delete"


#: The actions after which the campaign is gone (a dry run does nothing).
DELETING_ACTIONS = frozenset({TeardownAction.STOPPED_AND_DELETED, TeardownAction.DELETED})


@dataclass(frozen=True)
class CampaignFilter:
    """Which campaigns a teardown takes when no ids are given: those meeting every criterion given.

    :param statuses: Kore statuses to take (sent to Kore as the list's filter).
    :param name_pattern: A shell-style pattern (``*``, ``?``, ``[…]``) the name must match,
        case-insensitively as Kore compares names, e.g. ``"Flash sale *"``.
    :param created_before: Only campaigns created before this instant (an aware datetime or an
        ISO 8601 string with an offset); a campaign whose ``createdAt`` cannot be read is not taken.
    """

    statuses: tuple[str, ...] = ()
    name_pattern: str | None = None
    created_before: datetime | None = None

    @classmethod
    def of(
        cls,
        statuses: Iterable[str] | None = None,
        name_pattern: str | None = None,
        created_before: datetime | str | None = None,
    ) -> CampaignFilter:
        """Validate the criteria; one :class:`CampaignArgumentsError` names every bad one."""
        problems = filter_problems(statuses, name_pattern, created_before)
        if problems:
            raise CampaignArgumentsError(problems)
        if isinstance(created_before, str):
            created_before = datetime.fromisoformat(created_before.replace("Z", "+00:00"))
        values = [statuses] if isinstance(statuses, str) else list(statuses or ())
        return cls(tuple(dict.fromkeys(values)), name_pattern or None, created_before)

    @property
    def is_empty(self) -> bool:
        return not (self.statuses or self.name_pattern or self.created_before)

    def matches(self, campaign: Mapping[str, Any]) -> bool:
        """Whether a listed campaign meets every criterion."""
        if self.statuses and campaign.get("status") not in self.statuses:
            return False
        if self.name_pattern is not None:
            name = campaign.get("name")
            if not isinstance(name, str) or not fnmatch.fnmatchcase(name.lower(), self.name_pattern.lower()):
                return False
        if self.created_before is not None:
            created = created_at(campaign)
            if created is None or created >= self.created_before:
                return False
        return True


def filter_problems(statuses: Any, name_pattern: Any, created_before: Any) -> list[tuple[str, str]]:
    """``(argument, rule)`` for each criterion of a :class:`CampaignFilter` that is wrong."""
    problems: list[tuple[str, str]] = []
    if statuses is not None:
        values = [statuses] if isinstance(statuses, str) else statuses
        try:
            CampaignStatus.check_is_valid(values)
        except (InvalidCampaignArgumentError, TypeError) as error:
            problems.append(("statuses", getattr(error, "rule", str(error))))
    if name_pattern is not None and (not isinstance(name_pattern, str) or not name_pattern.strip()):
        problems.append(
            ("name_pattern", f"must be a non-blank pattern like 'Flash sale *', got {name_pattern!r}")
        )
    if created_before is not None:
        instant = created_before
        if isinstance(created_before, str):
            try:
                instant = datetime.fromisoformat(created_before.replace("Z", "+00:00"))
            except ValueError:
                instant = None
        if not isinstance(instant, datetime) or instant.tzinfo is None:
            problems.append(
                (
                    "created_before",
                    f"must be a datetime with a time zone (ISO 8601 with an offset), got {created_before!r}",
                )
            )
    return problems


@dataclass(frozen=True)
class CampaignOutcome:
    """One campaign's line of the report: its status when read, what was done, and why if not."""

    campaign_id: str
    action: TeardownAction
    status: str | None = None
    name: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "action": self.action.value,
            "status": self.status,
            "name": self.name,
            "reason": self.reason,
        }


@dataclass
class TeardownReport:
    """Per campaign what the teardown did, in the order the campaigns were named or listed, and
    how many calls of each kind it made (``list``, ``status``, ``stop``, ``delete``; retries
    inside the hook not counted)."""

    campaign_type: str
    dry_run: bool
    outcomes: list[CampaignOutcome] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        """How many campaigns got each action."""
        return dict(Counter(outcome.action.value for outcome in self.outcomes))

    @property
    def unfinished(self) -> list[CampaignOutcome]:
        """The campaigns a retry still has to handle: failed or not reached."""
        return [o for o in self.outcomes if o.action in (TeardownAction.FAILED, TeardownAction.NOT_REACHED)]

    def summary(self) -> str:
        counts = ", ".join(f"{action} {count}" for action, count in sorted(self.counts().items())) or "none"
        calls = ", ".join(f"{kind} {count}" for kind, count in sorted(self.calls.items())) or "none"
        verb = "Dry run: would handle" if self.dry_run else "Handled"
        return f"{verb} {len(self.outcomes)} {self.campaign_type} campaign(s): {counts}. Kore calls: {calls}."

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON (for XCom)."""
        return {
            "campaign_type": self.campaign_type,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "calls": dict(self.calls),
            "campaigns": [outcome.to_dict() for outcome in self.outcomes],
        }


class TeardownIncompleteError(CampaignError):
    """Some campaigns were not torn down; ``report`` says which and why. Calling again finishes them."""

    def __init__(self, report: TeardownReport, cause: BaseException | None = None) -> None:
        self.report = report
        unfinished = report.unfinished
        more = f" (and {len(unfinished) - 5} more)" if len(unfinished) > 5 else ""
        sample = "; ".join(f"{o.campaign_id}: {o.reason}" for o in unfinished[:5]) + more
        why = f" An account-wide failure ended it: {cause}." if cause is not None else ""
        super().__init__(
            f"Teardown incomplete: {len(unfinished)} of {len(report.outcomes)} campaign(s) not torn down: "
            f"{sample}.{why} {report.summary()} A retry re-reads the statuses and finishes the rest."
        )


def teardown_campaigns(
    hook: CampaignHook,
    campaign_ids: Iterable[str] | None = None,
    *,
    match: CampaignFilter | None = None,
    campaign_type: str = "sms",
    dry_run: bool = False,
    max_workers: int = DEFAULT_WORKERS,
) -> TeardownReport:
    """Stop (if running) and delete the campaigns named by ``campaign_ids``, or else every campaign
    ``match`` takes, each exactly once; return the report, or raise :class:`TeardownIncompleteError`
    carrying it when any campaign is left. See the module's docstring for the guarantees.

    Ids are checked before any call; ids and a filter together, or neither, are refused (an empty
    filter would take every campaign of the account). An id not in the account's list of
    ``campaign_type`` campaigns is reported ``already_gone`` (a campaign of the other type too).
    """
    kind = CampaignType.parse(campaign_type).value
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidCampaignArgumentError("max_workers", f"must be a whole number >= 1, got {max_workers!r}")
    ids = _checked_ids(campaign_ids) if campaign_ids is not None else None
    if ids is not None and match is not None and not match.is_empty:
        raise InvalidCampaignArgumentError("campaign_ids", "give campaign ids or a filter, not both")
    if ids is None and (match is None or match.is_empty):
        raise InvalidCampaignArgumentError(
            "campaign_ids",
            "give campaign ids or a filter (statuses, name_pattern, created_before); "
            "an empty filter would take every campaign of the account",
        )
    report = TeardownReport(kind, dry_run)
    hook.pace_every_call()  # ten thousand calls would otherwise meet a 429 every minute
    session = _Teardown(hook, kind, report)
    targets = session.learn(ids) if ids is not None else session.listed(match or CampaignFilter())
    if dry_run:
        report.outcomes = [session.planned(target) for target in targets]
    else:
        session.act(targets, max_workers)
    log.info("%s", report.summary())
    if report.unfinished:
        raise TeardownIncompleteError(report, session.fatal)
    return report


def _checked_ids(campaign_ids: Iterable[str]) -> list[str]:
    if isinstance(campaign_ids, str):
        raise InvalidCampaignArgumentError(
            "campaign_ids", f"must be a list of ids, got the string {campaign_ids!r}"
        )
    problems: list[tuple[str, str]] = []
    ids: dict[str, None] = {}
    for index, campaign_id in enumerate(campaign_ids):
        try:
            ids[validate_campaign_id(campaign_id, f"campaign_ids[{index}]")] = None
        except InvalidCampaignArgumentError as error:
            problems.append((error.field, error.rule))
    if problems:
        raise CampaignArgumentsError(problems)
    return list(ids)


@dataclass(frozen=True)
class _Target:
    """A campaign to tear down: its status and name as last read (None: gone, or not read)."""

    campaign_id: str
    status: str | None
    name: str | None = None
    gone: bool = False

    @property
    def needs_stop(self) -> bool:
        """Started and not finished, or a status Kore does not document: stop it before deleting."""
        return self.status is not None and self.status not in TERMINAL_STATUSES | NOT_STARTED_STATUSES


class _Teardown:
    """One teardown call: the hook, the type, the report it fills, and the first account-wide error."""

    def __init__(self, hook: CampaignHook, campaign_type: str, report: TeardownReport) -> None:
        self.hook = hook
        self.campaign_type = campaign_type
        self.report = report
        self.fatal: CampaignError | None = None
        self.gone_reason = f"not among the account's {campaign_type} campaigns"
        self._lock = threading.Lock()

    def _count(self, kind: str) -> None:
        with self._lock:
            self.report.calls[kind] += 1

    # --- learning statuses -------------------------------------------------------------------

    def _pages(
        self, statuses: tuple[str, ...] | None
    ) -> Iterable[tuple[list[dict[str, Any]], int | None, int]]:
        """``(new campaigns, total results, pages left: 0 on the last, -1 when unknown)`` per list page; ends
        like the hook's own listing (last page, a page adding nothing, ``MAX_LIST_PAGES``)."""
        seen: set[str] = set()
        for page in range(1, MAX_LIST_PAGES + 1):
            self._count("list")
            result = self.hook.list_campaigns_page(self.campaign_type, statuses, page, PAGE_SIZE)
            new = [c for c in result.results if (campaign_id_of(c) or "") not in seen]
            seen.update(filter(None, map(campaign_id_of, new)))
            last = (
                not new
                or not result.has_more
                or (result.total_pages is not None and page >= result.total_pages)
            )
            left = 0 if last else -1 if result.total_pages is None else result.total_pages - page
            yield new, result.total_results, left
            if last:
                return
        raise CampaignStateError(f"the campaign list did not end within {MAX_LIST_PAGES} pages")

    def listed(self, match: CampaignFilter) -> list[_Target]:
        """Every campaign of the account the filter takes, in listing order."""
        targets: list[_Target] = []
        for campaigns, _, _ in self._pages(match.statuses or None):
            targets.extend(
                _Target(str(campaign_id_of(c)), _status(c), c.get("name"))
                for c in campaigns
                if campaign_id_of(c) and match.matches(c)
            )
        return targets

    def learn(self, ids: list[str]) -> list[_Target]:
        """The named campaigns with their statuses, from the list pages, or from a status read
        each when that is fewer calls than the pages left (or the listing shifted under us)."""
        wanted = set(ids)
        found: dict[str, _Target] = {}
        totals: set[int | None] = set()
        read_each = False
        if ids:
            for campaigns, total, pages_left in self._pages(None):
                totals.add(total)
                for c in campaigns:
                    campaign_id = campaign_id_of(c)
                    if campaign_id in wanted:
                        found[campaign_id] = _Target(campaign_id, _status(c), c.get("name"))
                unknown = len(wanted) - len(found)
                if unknown == 0:
                    break
                if 0 < unknown < pages_left:
                    read_each = True  # a status read each is fewer calls than the pages left
                    break
        if len(totals) > 1:
            read_each = True  # campaigns came or went while paging: one may have moved past us
        for campaign_id in ids:
            if campaign_id not in found:
                found[campaign_id] = (
                    self._read(campaign_id) if read_each else _Target(campaign_id, None, gone=True)
                )
        return [found[campaign_id] for campaign_id in ids]

    def _read(self, campaign_id: str) -> _Target:
        self._count("status")
        try:
            return _Target(campaign_id, self.hook.get_campaign_status(campaign_id))
        except CampaignNotFoundError:
            return _Target(campaign_id, None, gone=True)

    # --- acting ------------------------------------------------------------------------------

    def planned(self, target: _Target) -> CampaignOutcome:
        """The dry run's line: what :meth:`one` would do."""
        if target.gone:
            return self._outcome(target, TeardownAction.ALREADY_GONE, self.gone_reason)
        action = TeardownAction.WOULD_STOP_AND_DELETE if target.needs_stop else TeardownAction.WOULD_DELETE
        return self._outcome(target, action)

    def act(self, targets: list[_Target], max_workers: int) -> None:
        """Tear each target down once, ``max_workers`` at a time; stop taking new ones after an
        account-wide failure."""
        stop_all = threading.Event()
        done = [0]

        def one(target: _Target) -> CampaignOutcome:
            if stop_all.is_set():
                return self._outcome(target, TeardownAction.NOT_REACHED, f"not reached: {self.fatal}")
            try:
                outcome = self.one(target)
            except CampaignError as error:  # not about this campaign: the account or the server
                with self._lock:
                    self.fatal = self.fatal or error
                stop_all.set()
                return self._outcome(target, TeardownAction.NOT_REACHED, f"{type(error).__name__}: {error}")
            with self._lock:
                done[0] += 1
                if done[0] % PROGRESS_EVERY == 0:
                    log.info("Torn down %d of %d campaign(s) so far.", done[0], len(targets))
            return outcome

        with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="kore-teardown") as pool:
            self.report.outcomes = list(pool.map(one, targets))

    def one(self, target: _Target) -> CampaignOutcome:
        """Stop (if running) and delete one campaign: each call at most once."""
        if target.gone:
            return self._outcome(target, TeardownAction.ALREADY_GONE, self.gone_reason)
        stopped = False
        if target.needs_stop:
            try:
                self._count("stop")
                self.hook.stop_campaign(target.campaign_id, self.campaign_type)
                stopped = True
            except CampaignNotFoundError:
                return self._outcome(target, TeardownAction.ALREADY_GONE, "Kore answered 404 to the stop")
            except CampaignValidationError as error:
                refused = self._refused_stop(target, error)
                if refused is not None:
                    return refused
            except _ONE_CAMPAIGN_ERRORS as error:
                return self._outcome(
                    target, TeardownAction.FAILED, f"Kore refused the stop (not deleted): {error}"
                )
        try:
            self._count("delete")
            self.hook.delete_campaign(target.campaign_id, self.campaign_type)
        except CampaignNotFoundError:
            why = "stopped, then gone before its delete" if stopped else "Kore answered 404 to the delete"
            return self._outcome(target, TeardownAction.ALREADY_GONE, why)
        except _ONE_CAMPAIGN_ERRORS as error:
            done = "stopped, but Kore refused the delete" if stopped else "Kore refused the delete"
            return self._outcome(target, TeardownAction.FAILED, f"{done}: {error}")
        action = TeardownAction.STOPPED_AND_DELETED if stopped else TeardownAction.DELETED
        log.debug("%s campaign %s (%s).", action.value, target.campaign_id, target.status)
        return self._outcome(target, action)

    def _refused_stop(self, target: _Target, error: CampaignValidationError) -> CampaignOutcome | None:
        """Kore refused the stop: None when the campaign has since finished (delete it), else its line."""
        now = self._read(target.campaign_id)
        if now.gone:
            return self._outcome(target, TeardownAction.ALREADY_GONE, "gone after Kore refused its stop")
        if now.status in TERMINAL_STATUSES | NOT_STARTED_STATUSES:
            log.info("Campaign %s became %s meanwhile; deleting it.", target.campaign_id, now.status)
            return None
        reason = f"Kore refused to stop it while {now.status} (not deleted): {error}"
        log.warning("Campaign %s: %s", target.campaign_id, reason)
        return self._outcome(target, TeardownAction.FAILED, reason)

    def _outcome(self, target: _Target, action: TeardownAction, reason: str | None = None) -> CampaignOutcome:
        if action is TeardownAction.FAILED:
            log.warning("Campaign %s not torn down: %s", target.campaign_id, reason)
        return CampaignOutcome(target.campaign_id, action, target.status, target.name, reason)


def _status(campaign: Mapping[str, Any]) -> str | None:
    status = campaign.get("status")
    return status if isinstance(status, str) else None
