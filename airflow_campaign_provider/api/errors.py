"""Kore's failures as typed errors: answers with a non-2xx status and sends that got no answer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.api.retry import retry_after_seconds
from airflow_campaign_provider.exceptions import (
    CampaignApiError,
    CampaignAuthError,
    CampaignConnectionConfigError,
    CampaignNotFoundError,
    CampaignOutcomeUnknownError,
    CampaignRateLimitError,
    CampaignServerError,
    CampaignTransportError,
    CampaignValidationError,
)

if TYPE_CHECKING:
    from airflow_campaign_provider.api.requests import ApiRequest

#: Kore's documented rate-limit refusal ("You've exceeded the per-minute rate limit. Please wait…").
RATE_LIMIT_TEXT = "exceeded the per-minute rate limit"


def tls_failure(error: BaseException) -> CampaignConnectionConfigError:
    """A TLS handshake that failed: a permanent setup problem (a plain-HTTP port, an untrusted
    certificate), named at once instead of being retried for minutes."""
    return CampaignConnectionConfigError(
        "host",
        f"the TLS handshake failed ({type(error).__name__}: {error}); if the server speaks plain HTTP "
        "on that port, write http:// in the host, otherwise check its certificate",
    )


def url_failure(error: BaseException) -> CampaignConnectionConfigError:
    """A URL the HTTP client refuses to send to: permanent, named at once."""
    return CampaignConnectionConfigError("host", f"is not a URL a request can be sent to: {error}")


def shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[:limit]}…"


def decode_json(text: str) -> Any:
    """``json.loads``, with nesting too deep to decode (``RecursionError``) as a ``ValueError``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def kore_error_of(body: Any) -> tuple[str | None, Any]:
    """Kore's error text and code from ``{"errors":[{"msg"|"message", "code"}]}`` or a flat body."""
    if not isinstance(body, Mapping):
        return (shorten(body) if isinstance(body, str) and body.strip() else None), None
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        texts: list[str] = []
        code = None
        for item in errors:
            if isinstance(item, Mapping):
                text = item.get("msg") or item.get("message")
                if text:
                    texts.append(str(text))
                if code is None:
                    code = item.get("code")
            elif item:
                texts.append(str(item))
        return ("; ".join(texts) or None), code
    text = body.get("msg") or body.get("message") or body.get("error")
    return (str(text) if text else None), body.get("code")


def attempt_timeout(request: ApiRequest, seconds: float, *, sent: bool = True) -> CampaignTransportError:
    """The error of an attempt with no complete answer within its total deadline, in both hooks.

    ``sent`` is False only when the request surely never left (cut as its connection opened).
    """
    late = TimeoutError(f"no complete answer within the attempt's deadline of {seconds:g} s")
    return transport_error(request, late, sent=sent)


def transport_error(request: ApiRequest, error: BaseException, *, sent: bool) -> CampaignTransportError:
    """The typed error for a send that got no answer.

    ``sent`` is False only when the request surely never reached Kore. A request that is not
    replayable and may have been acted on becomes ``CampaignOutcomeUnknownError``.
    """
    error_class = CampaignTransportError if request.replayable or not sent else CampaignOutcomeUnknownError
    return error_class(
        f"{type(error).__name__}: {error}", method=request.method, path=request.path, request_sent=sent
    )


_ERROR_CLASSES: dict[int, type[CampaignApiError]] = {
    400: CampaignValidationError,
    401: CampaignAuthError,
    403: CampaignAuthError,
    404: CampaignNotFoundError,
    409: CampaignValidationError,
    412: CampaignValidationError,
    422: CampaignValidationError,
    429: CampaignRateLimitError,
}


def is_rate_limit_refusal(status_code: int, text: str | None) -> bool:
    """Whether Kore surely refused the request before acting on it, for its rate limit.

    Only a 429, or a 4xx quoting Kore's documented message: a 5xx whose text mentions a rate
    limit ("Internal error in rate limiter") may have acted, and must not re-send a create or play.
    """
    if status_code == 429:
        return True
    return 400 <= status_code < 500 and bool(text) and RATE_LIMIT_TEXT in str(text).lower()


def error_for_answer(
    request: ApiRequest, status_code: int, body_text: str, headers: Mapping[str, str]
) -> CampaignApiError:
    """The typed error for a non-2xx answer, quoting Kore's own text."""
    try:
        body: Any = decode_json(body_text) if body_text.strip() else {}
    except ValueError:
        body = body_text
    text, code = kore_error_of(body)
    if is_rate_limit_refusal(status_code, text):
        error_class: type[CampaignApiError] = CampaignRateLimitError
    elif status_code >= 500:
        error_class = CampaignServerError
    else:
        error_class = _ERROR_CLASSES.get(status_code, CampaignApiError)
    return error_class(
        text or f"HTTP {status_code} with no error text",
        status_code=status_code,
        kore_code=code,
        method=request.method,
        path=request.path,
        retry_after=retry_after_seconds(headers),
    )
