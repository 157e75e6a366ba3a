"""A campaign's statuses, what a wait for one is after, how it ends, and the event that says so.

:class:`CampaignStatus` with its terminal sets, and beside it the wait vocabulary shared by the
hook (which polls in the worker), the sensor (which judges each poke), the shared poller (which
judges each status it reads) and every ``execute_complete`` that receives a
:class:`~airflow_campaign_provider.triggers.campaign.CampaignStatusTrigger` event, so all of
them agree on statuses, messages and errors. No Airflow and no HTTP here: the sandbox imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from airflow_campaign_provider import exceptions
from airflow_campaign_provider.exceptions import CampaignWaitError, InvalidCampaignArgumentError


class CampaignStatus(str, Enum):
    """Lifecycle status of a Kore.ai campaign, as the API spells it."""

    PREPARING = "Preparing"
    READY = "Ready"
    ACTIVE = "Active"
    PAUSED = "Paused"
    SCHEDULED = "Scheduled"
    RESCHEDULED = "Rescheduled"
    COMPLETED = "Completed"
    STOPPED = "Stopped"

    @classmethod
    def check_is_valid(cls, statuses: str | Iterable[str]) -> None:
        """Raise ``InvalidCampaignArgumentError`` naming any status Kore does not document."""
        values = [statuses] if isinstance(statuses, str) else list(statuses)
        known = {status.value for status in cls}
        unknown = [value for value in values if value not in known]
        if unknown:
            raise InvalidCampaignArgumentError(
                "statuses", f"unknown status {unknown!r}; known: {sorted(known)}"
            )


TERMINAL_STATUSES = frozenset({CampaignStatus.COMPLETED.value, CampaignStatus.STOPPED.value})
NON_TERMINAL_STATUSES = frozenset(status.value for status in CampaignStatus) - TERMINAL_STATUSES
#: Statuses of a campaign that has never been started: it has texted and called no one.
NOT_STARTED_STATUSES = frozenset({CampaignStatus.PREPARING.value, CampaignStatus.READY.value})
#: Statuses of a campaign that was started and has not finished: it may still send.
RUNNING_STATUSES = NON_TERMINAL_STATUSES - NOT_STARTED_STATUSES

EVENT_STATUSES = ("success", "failure", "timeout", "error")


def _status_list(field: str, statuses: str | Iterable[str], *, allow_empty: bool) -> tuple[str, ...]:
    values = [statuses] if isinstance(statuses, str) else list(statuses)
    if not all(isinstance(value, str) for value in values):
        raise InvalidCampaignArgumentError(field, f"must be status names, got {values!r}")
    if not values and not allow_empty:
        raise InvalidCampaignArgumentError(field, "must name at least one status")
    try:
        CampaignStatus.check_is_valid(values)
    except InvalidCampaignArgumentError as error:
        raise InvalidCampaignArgumentError(field, error.rule) from None
    return tuple(dict.fromkeys(values))


@dataclass(frozen=True)
class WaitGoal:
    """The statuses a wait succeeds on and the ones it fails on at once; any other is waited on."""

    targets: tuple[str, ...]
    failures: tuple[str, ...]

    @classmethod
    def of(
        cls, target_statuses: str | Iterable[str], failure_statuses: str | Iterable[str] | None = None
    ) -> WaitGoal:
        """Validate the statuses (typos would wait forever); by default a wait fails on every
        terminal status it does not target, e.g. ``Stopped`` when waiting for ``Completed``."""
        targets = _status_list("target_statuses", target_statuses, allow_empty=False)
        if failure_statuses is None:
            failures = tuple(sorted(TERMINAL_STATUSES - set(targets)))
        else:
            failures = _status_list("failure_statuses", failure_statuses, allow_empty=True)
        overlap = sorted(set(targets) & set(failures))
        if overlap:
            raise InvalidCampaignArgumentError(
                "failure_statuses", f"must not repeat a target status, got {overlap}"
            )
        return cls(targets, failures)

    @property
    def watched(self) -> frozenset[str]:
        """Every status that ends the wait."""
        return frozenset(self.targets) | frozenset(self.failures)

    def judge(self, campaign_id: str, status: str) -> WaitOutcome | None:
        """The outcome a campaign in ``status`` gives this wait, or None to go on waiting."""
        if status in self.targets:
            return WaitOutcome("success", status, f"Campaign {campaign_id} reached status {status!r}.")
        if status in self.failures:
            return WaitOutcome(
                "failure",
                status,
                f"Campaign {campaign_id} reached failure status {status!r} "
                f"while waiting for {list(self.targets)}.",
            )
        return None

    def timed_out(self, campaign_id: str, last_status: str | None) -> WaitOutcome:
        seen = f"its last status was {last_status!r}" if last_status else "its status was never read"
        return WaitOutcome(
            "timeout",
            last_status,
            f"Campaign {campaign_id} did not reach {list(self.targets)} before the deadline; {seen}.",
        )


def is_documented(status: str) -> bool:
    """Whether Kore documents ``status``; an undocumented one is logged and waited on."""
    return status in TERMINAL_STATUSES or status in NON_TERMINAL_STATUSES


def log_status(log: Any, campaign_id: str, status: str) -> None:
    """Log a status the waiter has not seen before; an undocumented one is a warning, not an error."""
    if is_documented(status):
        log.info("Campaign %s is %s.", campaign_id, status)
    else:
        log.warning(
            "Campaign %s is in status %r, which Kore.ai does not document; waiting on.", campaign_id, status
        )


@dataclass(frozen=True)
class WaitOutcome:
    """How one wait ended: ``status`` is one of :data:`EVENT_STATUSES`."""

    status: str
    campaign_status: str | None
    message: str

    @classmethod
    def not_found(cls, campaign_id: str) -> WaitOutcome:
        return cls(
            "failure",
            None,
            f"Campaign {campaign_id} was not found (HTTP 404): it was deleted, "
            "or the id or campaign type is wrong.",
        )

    @classmethod
    def error(
        cls, campaign_id: str, problem: BaseException | str, last_status: str | None = None
    ) -> WaitOutcome:
        text = problem if isinstance(problem, str) else f"{type(problem).__name__}: {problem}"
        return cls("error", last_status, f"Waiting for campaign {campaign_id} failed: {text}")

    def event(self, campaign_id: str) -> dict[str, Any]:
        """The JSON-safe payload of the trigger's one event."""
        return {
            "status": self.status,
            "campaign_id": campaign_id,
            "campaign_status": self.campaign_status,
            "message": self.message,
        }


def campaign_status_from_event(event: Any, campaign_id: str | None = None) -> str:
    """
    Validate a :class:`CampaignStatusTrigger` event and return the campaign status it reached.

    For ``execute_complete`` of every deferrable task that waits on a campaign. Raises
    :class:`CampaignWaitFailedError` on a failure event (no retries: the campaign will not get
    there), :class:`CampaignWaitTimeoutError` on a timeout (a sensor timeout, so ``soft_fail``
    applies), and :class:`CampaignWaitError` on an error event or on anything that is not a well
    formed event for ``campaign_id`` (when given).
    """
    if not isinstance(event, Mapping):
        raise CampaignWaitError(f"expected a campaign status event (a mapping), got {type(event).__name__}")
    status, message = event.get("status"), event.get("message")
    if status not in EVENT_STATUSES or not isinstance(message, str):
        raise CampaignWaitError(f"malformed campaign status event: {dict(event)!r}")
    if campaign_id is not None and event.get("campaign_id") != campaign_id:
        raise CampaignWaitError(
            f"the event is about campaign {event.get('campaign_id')!r}, not {campaign_id!r}: {message}"
        )
    if status == "failure":
        raise exceptions.CampaignWaitFailedError(message)
    if status == "timeout":
        raise exceptions.CampaignWaitTimeoutError(message)
    if status == "error":
        raise CampaignWaitError(message)
    campaign_status = event.get("campaign_status")
    if not isinstance(campaign_status, str) or not campaign_status:
        raise CampaignWaitError(f"a success event without a campaign status: {dict(event)!r}")
    return campaign_status


#: Waiting for a new campaign to leave ``Preparing``; no status fails it.
READY_GOAL = WaitGoal.of([s.value for s in CampaignStatus if s is not CampaignStatus.PREPARING], ())
#: Waiting for a started campaign to finish; ``Stopped`` fails it.
COMPLETION_GOAL = WaitGoal.of(CampaignStatus.COMPLETED.value)
