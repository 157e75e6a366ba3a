"""Start (play) a campaign exactly once: only a ``Ready`` one is played, an ``Active`` one is left
alone, and a play whose answer was lost is settled by reading the status, never replayed blindly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_campaign_provider import clock
from airflow_campaign_provider.exceptions import (
    CampaignAlreadyRunError,
    CampaignError,
    CampaignNotStartableError,
    CampaignOutcomeUnknownError,
    CampaignServerError,
    CampaignValidationError,
)
from airflow_campaign_provider.status import TERMINAL_STATUSES, CampaignStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_campaign_provider.lifecycle.calls import CampaignCalls


@dataclass(frozen=True)
class CampaignStart:
    """What :func:`start_campaign_once` did: the status, and whether this call played it."""

    status: str
    started: bool


def start_campaign_once(
    hook: CampaignCalls,
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
    status = hook.get_campaign_status(campaign_id)
    if status == CampaignStatus.ACTIVE.value:
        hook.log.info("Campaign %s is already Active; not triggering play again.", campaign_id)
        return CampaignStart(status, started=False)
    if status == CampaignStatus.READY.value:
        return _play_once(
            hook,
            campaign_id,
            campaign_type,
            max_attempts or hook.params.max_attempts,
            hook.params.ambiguity_recheck_seconds
            if ambiguity_recheck_seconds is None
            else ambiguity_recheck_seconds,
            before_play,
        )
    if status == CampaignStatus.COMPLETED.value and is_retry:
        # The first try did not refuse it (that refusal is final), so an earlier try started it.
        hook.log.info(
            "Campaign %s is already Completed on a retry: an earlier try started it; "
            "not triggering play again.",
            campaign_id,
        )
        return CampaignStart(status, started=False)
    if status in TERMINAL_STATUSES:
        raise CampaignAlreadyRunError(_not_startable(campaign_id, status))
    raise CampaignNotStartableError(_not_startable(campaign_id, status))


def _play_once(
    hook: CampaignCalls,
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
            answer = hook.start_campaign(campaign_id, campaign_type)
        except (CampaignOutcomeUnknownError, CampaignServerError) as error:
            unanswered = True
            hook.log.warning(
                "Starting campaign %s may or may not have worked (attempt %d of %d): %s. "
                "Reading its status to settle it.",
                campaign_id,
                attempt,
                max_attempts,
                error,
            )
            status = hook.get_campaign_status(campaign_id)
            if status == CampaignStatus.READY.value:
                clock.sleep(recheck_seconds)
                status = hook.get_campaign_status(campaign_id)
            if status == CampaignStatus.READY.value:
                hook.log.info("Campaign %s is still Ready: the play did not take effect.", campaign_id)
                continue
            if status not in (CampaignStatus.ACTIVE.value, CampaignStatus.COMPLETED.value):
                raise CampaignNotStartableError(
                    f"After an unanswered play, campaign {campaign_id} is {status}: "
                    "neither started by it nor startable."
                ) from error
            hook.log.info("Campaign %s is %s: the unanswered play took effect.", campaign_id, status)
            return CampaignStart(status, started=True)
        except CampaignValidationError as error:
            status = hook.get_campaign_status(campaign_id)
            if status == CampaignStatus.ACTIVE.value:
                hook.log.info("Campaign %s was started meanwhile; it is Active.", campaign_id)
                return CampaignStart(status, started=unanswered)  # late effect of our lost play?
            raise CampaignNotStartableError(
                f"Kore.ai refused to start campaign {campaign_id} (now {status}): {error.kore_message}"
            ) from error
        status = str(answer.get("status") or CampaignStatus.ACTIVE.value)
        hook.log.info("Started campaign %s: %s (%s).", campaign_id, answer.get("message"), status)
        return CampaignStart(status, started=True)
    raise CampaignError(
        f"Gave up starting campaign {campaign_id} after {max_attempts} unanswered plays; it is still Ready."
    )


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
