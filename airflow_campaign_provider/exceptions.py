"""Typed errors of the provider, all of them: what went wrong, where, and in Kore's own words.

Plain ``Exception`` subclasses (not ``AirflowException``) so the protocol module and the sandbox
never import Airflow; Airflow fails a task on any exception all the same. The three that must
tell Airflow how to fail a task (no retries, or a sensor timeout) subclass Airflow's own
exceptions, so they are defined on first use (see :func:`__getattr__`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence


class CampaignError(Exception):
    """Base class of every error this provider raises."""


class InvalidCampaignArgumentError(CampaignError, ValueError):
    """An argument broke a documented rule; raised before any HTTP call."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class CampaignArgumentsError(InvalidCampaignArgumentError):
    """One or more arguments broke a documented rule; raised before any HTTP call.

    ``problems`` holds every ``(field, rule)`` pair; ``fields`` the fields in order.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        self.fields = tuple(dict.fromkeys(field for field, _ in self.problems))
        super().__init__(", ".join(self.fields), "; ".join(rule for _, rule in self.problems))
        listed = "\n".join(f"  - {field}: {rule}" for field, rule in self.problems)
        count = len(self.problems)
        self.args = (f"{count} invalid campaign argument{'s' if count > 1 else ''}:\n{listed}",)


class CampaignConnectionConfigError(InvalidCampaignArgumentError):
    """The Airflow connection lacks a field or holds a malformed one; every problem is named."""

    def __init__(self, field: str, rule: str, more: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(field, rule)
        self.problems = [(field, rule), *more]
        self.args = ("; ".join(f"Kore.ai connection field {f}: {r}" for f, r in self.problems),)


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


class CampaignBudgetStoreError(CampaignError):
    """The shared request budget's store did not answer and its setting says to fail, not fall back."""


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


class CampaignConflictError(CampaignError):
    """A campaign with the requested name exists and may not be reused."""


class CampaignNotStartableError(CampaignError):
    """The campaign's status does not allow starting it."""


class CampaignWaitError(CampaignError):
    """The wait itself broke (Kore kept failing, or the event is malformed); task retries apply."""


class CampaignStateError(CampaignError, ValueError):
    """The campaign's status forbids the change asked for (an update of an Active campaign, a
    schedule on a running one); raised before any request that would change it."""


# --- errors that tell Airflow how to fail the task ---------------------------------------------

_TASK_ERRORS: dict[str, type[CampaignError]] = {}

if TYPE_CHECKING:
    #: The campaign has run (``Completed``) or was stopped before the task first tried to start
    #: it: it will never be ``Ready`` again, so the task fails without retries.
    CampaignAlreadyRunError: type[CampaignNotStartableError]
    #: The campaign reached a failure status, or no longer exists: retrying cannot help.
    CampaignWaitFailedError: type[CampaignError]
    #: The campaign did not reach a target status before the deadline (a sensor timeout).
    CampaignWaitTimeoutError: type[CampaignError]


def _define_task_errors() -> dict[str, type[CampaignError]]:
    from airflow_campaign_provider._compat import AirflowFailException, AirflowSensorTimeout

    class CampaignAlreadyRunError(AirflowFailException, CampaignNotStartableError):
        """The campaign has run (``Completed``) or was stopped before this task first tried to
        start it: it will never be ``Ready`` again, so the task fails without retries."""

    class CampaignWaitFailedError(AirflowFailException, CampaignError):
        """The campaign reached a failure status, or no longer exists: retrying cannot help."""

    class CampaignWaitTimeoutError(AirflowSensorTimeout, CampaignError):
        """The campaign did not reach a target status before the deadline."""

    errors: list[type[CampaignError]] = [
        CampaignAlreadyRunError,
        CampaignWaitFailedError,
        CampaignWaitTimeoutError,
    ]
    for error in errors:
        error.__module__, error.__qualname__ = __name__, error.__name__  # pickled by this module's name
    return {error.__name__: error for error in errors}


def __getattr__(name: str) -> type[CampaignError]:
    """The Airflow-bound errors, defined (and Airflow imported) when first asked for."""
    if name in ("CampaignAlreadyRunError", "CampaignWaitFailedError", "CampaignWaitTimeoutError"):
        if not _TASK_ERRORS:
            _TASK_ERRORS.update(_define_task_errors())
        return _TASK_ERRORS[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ContactListConflictError(CampaignError):
    """A contact list of that name exists with other settings; it was neither reused nor changed."""


class ContactListInUseError(CampaignError):
    """A running campaign still uses the contact list; it was not deleted."""


class ContactFileError(CampaignError, ValueError):
    """A contact source cannot be read as contacts: missing, unreadable, or without a phone column."""


class InvalidContactsError(CampaignError, ValueError):
    """More contacts broke the E.164 rule than allowed; nothing was sent."""


class ContactUploadError(CampaignError):
    """An upload stopped part way; the message says how far it got. A retry sends only the rest."""

    def __init__(self, message: str, *, sent: int, already_present: int) -> None:
        self.sent = sent
        self.already_present = already_present
        super().__init__(message)


class ContactImportTimeoutError(ContactUploadError):
    """Every batch was accepted but the list did not reach the expected count in time."""
