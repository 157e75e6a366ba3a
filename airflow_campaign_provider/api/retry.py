"""What is retried, how often, how long to wait: the policy both hooks and the trigger share."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider import clock
from airflow_campaign_provider.exceptions import (
    CampaignRateLimitError,
    CampaignServerError,
    CampaignTransportError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_campaign_provider.api.requests import ApiRequest

    pass


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds (delta form or HTTP date), or None when absent or unusable.

    Negative, NaN, infinite and past values are unusable, as if absent; callers cap the rest
    (``RetryPolicy.max_retry_after_seconds``), so no server can make a wait last for ever.
    """
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - clock.wall()
        except (TypeError, ValueError, OverflowError):
            return None
        if seconds <= 0:
            return None  # a date in the past
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


@dataclass(frozen=True)
class RetryPolicy:
    """What is retried, how often and how long to wait; shared by the hook and the trigger.

    Retried: connection errors and timeouts, 5xx, 429 and rate-limit answers. A request that is
    not ``replayable`` (create, start) is retried only when Kore surely did not act on it: the
    connection was never made, or Kore refused it for the rate limit.
    """

    max_attempts: int = 6
    #: One attempt's total deadline, connect to last byte: a read timeout bounds each read only,
    #: so a server dripping a byte a second would otherwise hold a call for ever.
    max_attempt_seconds: float = 60.0
    base_wait_seconds: float = 1.0
    max_wait_seconds: float = 30.0
    #: A rate-limited call with no ``Retry-After`` waits a slice of Kore's 60 s window.
    rate_limit_window_seconds: float = 60.0
    #: Every wait a server asks for (``Retry-After``) is clamped to this range, in the hook, the
    #: trigger and the shared token bucket: ``Retry-After: 0`` makes no tight loop, ``1e9`` no hang.
    min_retry_after_seconds: float = 1.0
    max_retry_after_seconds: float = 120.0
    max_total_seconds: float = 300.0

    @staticmethod
    def _retryable(error: BaseException, replayable: bool) -> bool:
        if isinstance(error, CampaignRateLimitError):
            return True
        if isinstance(error, CampaignTransportError):
            return replayable or not error.request_sent
        if isinstance(error, CampaignServerError):
            return replayable
        return False

    def wait_seconds(self, attempt: int, error: BaseException | None) -> float:
        """Exponential back-off with full jitter; ``Retry-After`` wins when Kore sends it."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return self.server_wait(retry_after) + random.uniform(0, 0.25)
        if isinstance(error, CampaignRateLimitError):
            # Without Retry-After: a growing slice of the window, so a few tries span all of it.
            slice_ = self.rate_limit_window_seconds / 4
            return min(slice_ * 2 ** (attempt - 1), self.rate_limit_window_seconds) * random.uniform(
                0.75, 1.0
            )
        ceiling = min(self.base_wait_seconds * 2 ** (attempt - 1), self.max_wait_seconds)
        return random.uniform(ceiling / 2, ceiling)

    def server_wait(self, seconds: float) -> float:
        """A wait a server asked for, clamped between the policy's minimum and maximum."""
        if not math.isfinite(seconds):
            return self.max_retry_after_seconds
        return min(max(seconds, self.min_retry_after_seconds), self.max_retry_after_seconds)

    def tenacity_arguments(self, request: ApiRequest, before_sleep: Callable[[Any], None]) -> dict[str, Any]:
        """Keyword arguments for ``tenacity.Retrying`` or ``AsyncRetrying`` sending ``request``.

        They depend only on ``request.replayable``, so a caller may build its retrier once per value.
        """
        import tenacity

        replayable = request.replayable
        return {
            "stop": tenacity.stop_after_attempt(self.max_attempts)
            | tenacity.stop_after_delay(self.max_total_seconds),
            "wait": lambda state: self.wait_seconds(
                state.attempt_number, state.outcome.exception() if state.outcome else None
            ),
            "retry": tenacity.retry_if_exception(lambda error: self._retryable(error, replayable)),
            "before_sleep": before_sleep,
            "reraise": True,
        }
