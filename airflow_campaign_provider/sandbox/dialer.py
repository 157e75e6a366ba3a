"""How the sandbox's voice calls go: per contact, how many attempts and how the call ended.

A voice run dials each contact once in turn (the store records that first dial as the contact's
``Message``); a contact that does not answer is dialed again every ``defaultRetryPeriod`` minutes,
up to ``maxAttemptsPerRecord`` attempts. One Kore minute lasts ``retry_minute_seconds`` of sandbox
time, so a campaign with a 10-minute retry period finishes in well under a second in tests.
Each contact's fate follows from its phone number alone (:func:`call_plan`), so tests can predict
it. Kore's results sample shows only ``completed`` and ``""`` (still in progress) as
``dialerOutcome``; ``noAnswer`` and ``busy`` are this sandbox's own words for unanswered calls.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

ANSWERED = "completed"
#: Attempt on which a contact answers, by the last digit of its number's hash (None: never).
_ANSWER_ON = (1, 1, 1, 1, 1, 1, 2, 2, 3, None)


@dataclass(frozen=True)
class CallPlan:
    """What happens to one contact: its outcome and how many attempts it takes."""

    outcome: str
    attempts: int

    @property
    def answered(self) -> bool:
        return self.outcome == ANSWERED


def call_plan(phone: str, max_attempts: int) -> CallPlan:
    """The fate of ``phone`` in a campaign allowing ``max_attempts`` attempts per contact."""
    digest = int(hashlib.sha256(phone.encode()).hexdigest(), 16)
    answer_on = _ANSWER_ON[digest % 10]
    if answer_on is not None and answer_on <= max_attempts:
        return CallPlan(ANSWERED, answer_on)
    return CallPlan("busy" if digest % 2 else "noAnswer", max_attempts)


def strategy_of(doc: dict[str, Any]) -> tuple[int, float]:
    """``(maxAttemptsPerRecord, defaultRetryPeriod in minutes)`` of a stored voice campaign."""
    strategy = doc.get("dialingStrategy") or {}
    return int(strategy.get("maxAttemptsPerRecord") or 1), float(strategy.get("defaultRetryPeriod") or 1)


def retry_tail(doc: dict[str, Any], phones: Iterable[str], minute_seconds: float) -> float:
    """Seconds the last retries add after the last first dial of a run."""
    max_attempts, retry_minutes = strategy_of(doc)
    most = max((call_plan(phone, max_attempts).attempts for phone in phones), default=1)
    return (most - 1) * retry_minutes * minute_seconds


def contact_result(
    phone: str, first_dial: float | None, until: float, doc: dict[str, Any], minute_seconds: float
) -> dict[str, Any]:
    """One row of ``view=contacts`` as of ``until``; ``first_dial`` None means not dialed yet."""
    max_attempts, retry_minutes = strategy_of(doc)
    plan = call_plan(phone, max_attempts)
    gap = retry_minutes * minute_seconds
    if first_dial is None or until < first_dial:
        attempts, finished = 0, False
    else:
        elapsed = until - first_dial
        attempts = plan.attempts if gap <= 0 else min(plan.attempts, 1 + int(elapsed / gap))
        finished = attempts == plan.attempts and elapsed >= (plan.attempts - 1) * gap
    digest = hashlib.sha256(f"{doc.get('_id')}:{phone}".encode()).hexdigest()
    return {
        "phoneNumber": phone,
        "uniqueId": "",
        "dialerOutcome": plan.outcome if finished else "",
        "numberOfAttemptsSoFar": attempts,
        "botSessionId": digest[:24] if finished and plan.answered else "",
        "agentDispositionCodes": ["System Generated"] if finished and plan.answered else [],
        "botOutboundStatus": ("userHangUp" if plan.answered else plan.outcome) if finished else "",
        "botOutboundStatusDetail": ("user_hangup" if plan.answered else "") if finished else "",
    }
