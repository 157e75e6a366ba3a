"""Typed errors of the provider: what went wrong, where, and in Kore's own words.

Plain ``Exception`` subclasses (not ``AirflowException``) so the protocol module and the sandbox
never import Airflow; Airflow fails a task on any exception all the same.
"""

from __future__ import annotations

from typing import Any


class CampaignError(Exception):
    """Base class of every error this provider raises."""


class InvalidCampaignArgumentError(CampaignError, ValueError):
    """An argument broke a documented rule; raised before any HTTP call."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class CampaignConnectionConfigError(InvalidCampaignArgumentError):
    """The Airflow connection lacks a field or holds a malformed one."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(field, rule)
        self.args = (f"Kore.ai connection field {field}: {rule}",)


class CampaignApiError(CampaignError):
    """Kore answered with an error, or with something that is not a usable answer.

    Carries the HTTP status, Kore's error code and text, and ``METHOD /path`` (never the query,
    the headers or the token).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        kore_code: Any = None,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.kore_message = message
        self.status_code = status_code
        self.kore_code = kore_code
        self.method = method
        self.path = path
        self.retry_after = retry_after
        where = f"{method} {path}".strip() or "Kore.ai request"
        status = f"HTTP {status_code}" if status_code is not None else "no answer"
        code = f", Kore code {kore_code}" if kore_code is not None else ""
        super().__init__(f"{where} failed ({status}{code}): {message}")


class CampaignAuthError(CampaignApiError):
    """401/403: the JWT, its scope, ``iid`` or ``accountId`` were refused."""


class CampaignNotFoundError(CampaignApiError):
    """404: no such campaign (or not of that campaign type)."""


class CampaignValidationError(CampaignApiError):
    """400/409/412/422: Kore refused the request's content."""


class CampaignRateLimitError(CampaignApiError):
    """429, or any answer whose text says the rate limit was exceeded."""


class CampaignServerError(CampaignApiError):
    """5xx from Kore."""


class CampaignResponseError(CampaignApiError):
    """A 2xx answer that is not JSON or lacks a field the provider needs."""


class CampaignTransportError(CampaignApiError):
    """No answer: the connection failed, dropped, or timed out.

    ``request_sent`` is False only when Kore surely never saw the request (the connection was
    never made), which is what makes a non-replayable request safe to send again.
    """

    def __init__(self, message: str, *, method: str, path: str, request_sent: bool) -> None:
        super().__init__(message, method=method, path=path)
        self.request_sent = request_sent


class CampaignOutcomeUnknownError(CampaignTransportError):
    """A create or start may or may not have taken effect; it was not sent again blindly."""


class CampaignStateError(CampaignError, ValueError):
    """The campaign's status forbids the change asked for (an update of an Active campaign, a
    schedule on a running one); raised before any request that would change it."""
