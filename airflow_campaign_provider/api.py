"""The Kore.ai Campaign Management API v2 wire protocol, free of any transport.

Paths, query parameters, headers, the JWT, response parsing, error mapping and the retry
policy live here once, so the synchronous hook (requests) and the asynchronous trigger (httpx)
build the very same requests and read answers the very same way. Nothing here performs I/O
or imports Airflow: the sandbox server and DAG-parse-time imports stay cheap.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_campaign_provider import __version__
from airflow_campaign_provider.exceptions import (
    CampaignApiError,
    CampaignAuthError,
    CampaignConnectionConfigError,
    CampaignNotFoundError,
    CampaignOutcomeUnknownError,
    CampaignRateLimitError,
    CampaignResponseError,
    CampaignServerError,
    CampaignTransportError,
    CampaignValidationError,
    InvalidCampaignArgumentError,
)

if TYPE_CHECKING:
    from airflow_campaign_provider.models.connection import KoreConnectionSettings
    from airflow_campaign_provider.models.contact_list import (
        AddContactsBody,
        ContactListCreate,
        ContactListUpdate,
    )

USER_AGENT = f"airflow-campaign-provider/{__version__}"
API_ROOT = "/campaign/api/v2/public"
#: Kore's documented rate-limit refusal ("You've exceeded the per-minute rate limit. Please wait…").
RATE_LIMIT_TEXT = "exceeded the per-minute rate limit"
#: An answer's body is read at most this large once decoded; a larger 2xx is refused.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
#: The transports read an answer's body in chunks of at most this many bytes.
READ_CHUNK_BYTES = 64 * 1024
#: Answer encodings the provider asks for and decodes itself, with bounded memory.
ACCEPTED_ENCODINGS = "gzip, deflate"
#: Start and stop paths from the host root, as each Kore page writes them: per (campaign type,
#: trigger), the page's own shape first, then the other documented shape tried once on a 404.
TRIGGER_PATH_SHAPES: dict[tuple[str, str], tuple[str, str]] = {
    ("sms", "play"): (
        API_ROOT + "/{stream_id}/campaign/{campaign_id}",
        API_ROOT + "/{stream_id}/campaign//trigger/{campaign_id}",
    ),
    ("sms", "stop"): (
        API_ROOT + "/{stream_id}/campaign//trigger/{campaign_id}",
        API_ROOT + "/{stream_id}/campaign/{campaign_id}",
    ),
    ("voice", "play"): (
        "/api/v2/public/{stream_id}/campaign/trigger/{campaign_id}",
        API_ROOT + "/{stream_id}/campaign//trigger/{campaign_id}",
    ),
    ("voice", "stop"): (
        "/api/v2/public/{stream_id}/campaign/trigger/{campaign_id}",
        API_ROOT + "/{stream_id}/campaign//trigger/{campaign_id}",
    ),
}
#: Logged by both transports before they mint a new token and send a refused request once more.
TOKEN_REFUSED_LOG = "Kore.ai refused the token for %s; minting a new one, trying once more."


class CampaignType(str, Enum):
    """The ``campaignType`` query parameter."""

    SMS = "sms"
    VOICE = "voice"

    @classmethod
    def parse(cls, value: str, field_name: str = "campaign_type") -> CampaignType:
        """Return the member for ``value`` or raise an error naming the field and the rule."""
        try:
            return cls(str(value).lower())
        except ValueError:
            raise InvalidCampaignArgumentError(
                field_name, f"must be one of {[member.value for member in cls]}, got {value!r}"
            ) from None


class TokenMinter:
    """Mints Kore's HS256 JWT: one reusable token, or a one-time token with a fresh ``jti``.

    Kore enforces two rules on a token that carries ``jti``: its ``exp`` is at most one hour after
    issue, and a ``jti`` seen before is refused ("possibly a replay"). So a reusable token carries
    no ``jti`` (it is cached until shortly before its ``exp``), and every token that carries one is
    minted for one request and never handed out again: every request when the connection says
    ``enforce_jti`` (the Kore app then requires ``jti``), and the resend after a 401.
    Thread-safe: a hook may be shared by mapped task threads.
    """

    #: A cached token is replaced this long before its ``exp``.
    REFRESH_MARGIN_SECONDS = 60

    def __init__(self, settings: KoreConnectionSettings, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self, *, one_time: bool = False) -> tuple[str, bool]:
        """Return ``(jwt, reusable_and_new)``.

        Callers register a reusable token with the secrets masker the first time they see it. A
        one-time token is not registered: the masker rebuilds its pattern for every secret added,
        so a token per request would make every call slower than the last. Airflow's log pipeline
        redacts any JWT-shaped text with one fixed pattern, and Kore refuses the token once used.
        """
        now = self._clock()
        if one_time or self._settings.enforce_jti:
            return self._mint(now, with_jti=True), False
        with self._lock:
            margin = min(self.REFRESH_MARGIN_SECONDS, self._settings.token_ttl_seconds / 2)
            if self._token is None or now >= self._expires_at - margin:
                self._token = self._mint(now, with_jti=False)
                self._expires_at = now + self._settings.token_ttl_seconds
                return self._token, True
            return self._token, False

    def invalidate(self) -> None:
        """Forget the cached token, e.g. after Kore answered 401."""
        with self._lock:
            self._token = None

    def refused(self, status_code: int) -> bool:
        """Whether Kore refused the token (401); if so it is forgotten and the caller sends once more
        with a one-time token (accepted whether or not the Kore app enforces ``jti``)."""
        if status_code != 401:
            return False
        self.invalidate()
        return True

    def _mint(self, now: float, *, with_jti: bool) -> str:
        import jwt  # PyJWT: imported on first use, it is slow to import and DAG files never need it.

        issued_at = int(now)
        claims: dict[str, Any] = {
            "appId": self._settings.client_id,
            "sub": self._settings.jwt_subject,
            "iat": issued_at,
            "exp": issued_at + self._settings.token_ttl_seconds,  # <= MAX_TOKEN_TTL_SECONDS
        }
        if with_jti:
            claims["jti"] = uuid.uuid4().hex
        return jwt.encode(claims, self._settings.client_secret, algorithm="HS256")


@dataclass(frozen=True)
class ApiRequest:
    """One Kore call, transport-free. ``replayable`` says whether a blind retry is harmless."""

    method: str
    path: str
    params: dict[str, str]
    json_body: Any | None = None
    replayable: bool = True

    @property
    def description(self) -> str:
        """``METHOD /path`` for messages and logs: the query is left out, no secret is in the path."""
        return f"{self.method} {self.path}"


def validate_campaign_id(campaign_id: Any, field_name: str = "campaign_id") -> str:
    """A campaign id (Kore ids: ``cd-…``) must be a non-empty id fit for a URL path (see
    ``identifier_problem``: not ``.`` or ``..``, no ``/``, whitespace or control characters)."""
    from airflow_campaign_provider.models.common import identifier_problem

    if not isinstance(campaign_id, str) or not campaign_id.strip():
        raise InvalidCampaignArgumentError(field_name, f"must be a non-empty string, got {campaign_id!r}")
    problem = identifier_problem(campaign_id)
    if problem is not None:
        raise InvalidCampaignArgumentError(field_name, f"{problem} (got {campaign_id!r})")
    return campaign_id


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


class CampaignRequests:
    """Builds every Kore campaign request for one connection."""

    def __init__(self, settings: KoreConnectionSettings) -> None:
        self.settings = settings
        self.base_path = f"{API_ROOT}/{quote(settings.stream_id, safe='')}/campaign"

    def url(self, request: ApiRequest) -> str:
        """The absolute URL without the query (the transport adds ``params``)."""
        return f"{self.settings.base_url}{request.path}"

    def send_arguments(self, request: ApiRequest, token: str) -> dict[str, Any]:
        """Keyword arguments for one send; ``requests`` and ``httpx`` take the very same names."""
        headers = self.headers(token, with_body=request.json_body is not None)
        return {
            "method": request.method,
            "url": self.url(request),
            "params": request.params,
            "json": request.json_body,
            "headers": headers,
        }

    def headers(self, token: str, *, with_body: bool) -> dict[str, str]:
        """Kore's headers: the raw JWT in ``auth`` (not ``Authorization: Bearer``), ``iid``, ``accountId``."""
        headers = {
            "auth": token,
            "iid": self.settings.iid,
            "accountId": self.settings.account_id,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPTED_ENCODINGS,
            "User-Agent": USER_AGENT,
        }
        if with_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _params(self, **extra: str) -> dict[str, str]:
        return {"accountId": self.settings.account_id, **extra}

    def _campaign_path(self, campaign_id: str, suffix: str = "") -> str:
        return f"{self.base_path}/{quote(validate_campaign_id(campaign_id), safe='')}{suffix}"

    def create_sms_campaign(self, payload: Mapping[str, Any]) -> ApiRequest:
        """Create; never replayed blindly, since a replay could create a second campaign."""
        if not isinstance(payload, Mapping):
            raise InvalidCampaignArgumentError(
                "payload", f"must be a JSON object, got {type(payload).__name__}"
            )
        return ApiRequest(
            "POST", self.base_path, self._params(campaignType="sms"), dict(payload), replayable=False
        )

    def get_campaign(self, campaign_id: str) -> ApiRequest:
        return ApiRequest("GET", self._campaign_path(campaign_id), self._params())

    def get_campaign_status(self, campaign_id: str) -> ApiRequest:
        return ApiRequest(
            "POST", self._campaign_path(campaign_id, "/status"), self._params(view="status"), {}
        )

    def trigger_shapes(self, campaign_type: str, action: str) -> tuple[str, ...]:
        """The path templates a play or stop may use, in order: the connection's, else both documented."""
        key = (CampaignType.parse(campaign_type).value, action)
        configured = self.settings.trigger_paths.get(key)
        return (configured,) if configured else TRIGGER_PATH_SHAPES[key]

    def _trigger(
        self, campaign_id: str, campaign_type: str, action: str, shape: int, replayable: bool
    ) -> ApiRequest:
        kind = CampaignType.parse(campaign_type).value
        path = self.trigger_shapes(kind, action)[shape].format(
            stream_id=quote(self.settings.stream_id, safe=""),
            campaign_id=quote(validate_campaign_id(campaign_id), safe=""),
        )
        return ApiRequest("POST", path, self._params(campaignType=kind, trigger=action), {}, replayable)

    def start_campaign(self, campaign_id: str, campaign_type: str = "sms", shape: int = 0) -> ApiRequest:
        """``trigger=play``; not replayed blindly: a lost answer is settled by reading the status."""
        return self._trigger(campaign_id, campaign_type, "play", shape, replayable=False)

    def stop_campaign(self, campaign_id: str, campaign_type: str = "sms", shape: int = 0) -> ApiRequest:
        """``trigger=stop``; replaying a stop cannot send anything."""
        return self._trigger(campaign_id, campaign_type, "stop", shape, replayable=True)

    def delete_campaign(self, campaign_id: str, campaign_type: str = "sms") -> ApiRequest:
        kind = CampaignType.parse(campaign_type).value
        return ApiRequest("DELETE", self._campaign_path(campaign_id), self._params(campaignType=kind))

    def list_campaigns(
        self,
        campaign_type: str = "sms",
        statuses: Iterable[str] | None = None,
        page: int = 1,
        page_size: int = 50,
        *,
        newest_first: bool = False,
    ) -> ApiRequest:
        """One page of ``getAllCampaignDetails`` (pages count from 1); ``newest_first`` sends Kore's
        documented ``sortBy: {"createdAt": "desc"}``."""
        if page < 1:
            raise InvalidCampaignArgumentError("page", f"must be >= 1, got {page}")
        if not 1 <= page_size <= 100:
            raise InvalidCampaignArgumentError("page_size", f"must be between 1 and 100, got {page_size}")
        body: dict[str, Any] = {
            "type": CampaignType.parse(campaign_type).value,
            "limit": page_size,
            "skip": (page - 1) * page_size,
            "page": page,
        }
        if statuses:
            body["filters"] = {"status": list(statuses)}
        if newest_first:
            body["sortBy"] = {"createdAt": "desc"}
        return ApiRequest("POST", f"{self.base_path}/getAllCampaignDetails", self._params(), body)

    # voice campaigns, updates, schedules and per-contact results

    def create_voice_campaign(self, payload: Mapping[str, Any]) -> ApiRequest:
        """Create a voice campaign; never replayed blindly, like an SMS create."""
        return ApiRequest(
            "POST", self.base_path, self._params(campaignType="voice"), dict(payload), replayable=False
        )

    def update_campaign(self, campaign_id: str, campaign_type: str, body: Mapping[str, Any]) -> ApiRequest:
        """PUT the full object; sending the same object twice changes nothing, so it is replayable."""
        kind = CampaignType.parse(campaign_type).value
        return ApiRequest(
            "PUT", self._campaign_path(campaign_id), self._params(campaignType=kind), dict(body)
        )

    def set_schedule(self, campaign_name: str, body: Mapping[str, Any] | None) -> ApiRequest:
        """Enable the schedule ``body`` describes (None disables it); keyed by name, as Kore does."""
        if not isinstance(campaign_name, str) or not campaign_name.strip():
            raise InvalidCampaignArgumentError(
                "campaign_name", f"must be a non-empty string, got {campaign_name!r}"
            )
        enable = "true" if body is not None else "false"
        params = self._params(enableSchedule=enable, campaignName=campaign_name)
        return ApiRequest("POST", f"{self.base_path}/schedule", params, dict(body or {}))

    def contact_results(self, campaign_id: str, page: int, limit: int) -> ApiRequest:
        """One page of a voice campaign's per-contact results (``view=contacts``)."""
        from airflow_campaign_provider.models.checks import validate
        from airflow_campaign_provider.models.voice import ContactsPage

        query, problems = validate(ContactsPage, {"page": page, "limit": limit})
        if query is None:
            field, rule = problems[0]
            raise InvalidCampaignArgumentError("page_size" if field == "limit" else field, rule)
        return ApiRequest(
            "POST",
            self._campaign_path(campaign_id, "/status"),
            self._params(view="contacts"),
            query.model_dump(),
        )


class ContactListRequests:
    """Builds every Kore contact-list request for one connection.

    Lists live under the v2 campaign root; adding contacts is Kore's one v1 call, keyed by the
    list's *name* and the app's iid, documented without the ``accountId`` query parameter.
    """

    def __init__(self, settings: KoreConnectionSettings) -> None:
        self.settings = settings
        self.base_path = f"{API_ROOT}/{quote(settings.stream_id, safe='')}/campaign/contactList"
        self.add_contacts_path = (
            f"/api/1.1/public/{quote(settings.iid, safe='')}/campaign/contactList/addContacts"
        )

    def _params(self, **extra: str) -> dict[str, str]:
        return {"accountId": self.settings.account_id, **extra}

    def _list_path(self, contact_list_id: str, suffix: str = "") -> str:
        list_id = validate_campaign_id(contact_list_id, "contact_list_id")
        return f"{self.base_path}/{quote(list_id, safe='')}{suffix}"

    def create_contact_list(self, body: ContactListCreate) -> ApiRequest:
        """Create; never replayed blindly: a lost answer is settled by looking the name up."""
        path = f"{self.base_path}/createContactList"
        return ApiRequest("POST", path, self._params(), body.wire(), replayable=False)

    def list_contact_lists(self) -> ApiRequest:
        """``getAllListDetails``: the page's table says POST, its sample (followed here) sends GET."""
        return ApiRequest("GET", f"{self.base_path}/getAllListDetails", self._params(type="call"))

    def get_contact_list(self, contact_list_id: str) -> ApiRequest:
        return ApiRequest("GET", self._list_path(contact_list_id), self._params())

    def update_contact_list(self, contact_list_id: str, body: ContactListUpdate) -> ApiRequest:
        """Setting a name or description twice changes nothing more, so it is replayable."""
        return ApiRequest("PUT", self._list_path(contact_list_id), self._params(), body.wire())

    def delete_contact_list(self, contact_list_id: str) -> ApiRequest:
        return ApiRequest("DELETE", self._list_path(contact_list_id), self._params())

    def list_contacts(self, contact_list_id: str, skip: int, limit: int) -> ApiRequest:
        """One page of ``getAllContacts``; Kore leaves its paging parameters undocumented, its
        answers echo ``skip`` and ``limit``, which are sent here."""
        if skip < 0:
            raise InvalidCampaignArgumentError("skip", f"must be >= 0, got {skip}")
        if not 1 <= limit <= 100:
            raise InvalidCampaignArgumentError("page_size", f"must be between 1 and 100, got {limit}")
        path = self._list_path(contact_list_id, "/getAllContacts")
        return ApiRequest("GET", path, self._params(skip=str(skip), limit=str(limit)))

    def add_contacts(self, body: AddContactsBody) -> ApiRequest:
        """Not replayable: on a list that allows duplicates a replay would add the batch twice."""
        return ApiRequest("POST", self.add_contacts_path, {}, body.wire(), replayable=False)


# --- answers -------------------------------------------------------------------------------


def _truncate(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[:limit]}…"


@dataclass(frozen=True)
class ApiAnswer:
    """A 2xx answer: the request it answers, its HTTP status and its decoded JSON body."""

    request: ApiRequest
    status_code: int
    body: Any

    def fail(self, problem: str) -> CampaignResponseError:
        """An error saying what is wrong with this answer."""
        return CampaignResponseError(
            problem, status_code=self.status_code, method=self.request.method, path=self.request.path
        )


def read_answer(request: ApiRequest, status_code: int, text: str, headers: Mapping[str, str]) -> ApiAnswer:
    """Decode a 2xx answer, or raise the typed error for any other status."""
    if not 200 <= status_code < 300:
        raise error_for_answer(request, status_code, text, headers)
    answer = ApiAnswer(request, status_code, {})
    if not text.strip():
        return answer
    try:
        return ApiAnswer(request, status_code, _json(text))
    except ValueError:
        raise answer.fail(f"answer is not JSON: {_truncate(text, 120)!r}") from None


def _json(text: str) -> Any:
    """``json.loads``, with nesting too deep to decode (``RecursionError``) as a ``ValueError``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


class AnswerBody:
    """An answer's body, collected chunk by chunk as it arrives, the same way by both transports.

    The raw bytes are decoded here (``gzip``, ``deflate``) with bounded memory, so a small
    compressed body cannot unpack to gigabytes; at most ``max_bytes`` are kept once decoded. A
    larger 2xx is a ``CampaignResponseError``; an error answer keeps its first ``max_bytes``
    (``full`` tells the transport to stop reading). Past ``deadline`` (the attempt's total
    deadline, on ``clock``) the attempt fails as a timeout, however slowly the server drips.
    """

    def __init__(
        self,
        request: ApiRequest,
        status_code: int,
        headers: Mapping[str, str],
        *,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
        max_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self._request = request
        self._status_code = status_code
        self._deadline = deadline
        self._clock = clock
        self._max_bytes = max_bytes
        self._chunks: list[bytes] = []
        self._size = 0
        self.full = False
        encoding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), "")
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._decoder: Any = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS)
        else:
            raise self._fail(f"answer uses Content-Encoding {encoding!r}; only {ACCEPTED_ENCODINGS} are read")

    def _fail(self, problem: str) -> CampaignResponseError:
        return ApiAnswer(self._request, self._status_code, None).fail(problem)

    def check_deadline(self) -> None:
        """Raise the attempt's timeout once its total deadline has passed."""
        if self._clock() >= self._deadline:
            raise transport_error(
                self._request, TimeoutError("no complete answer within the attempt's deadline"), sent=True
            )

    def add(self, raw: bytes) -> None:
        """Take the next raw chunk of the body."""
        self.check_deadline()
        if self._decoder is None:
            self._keep(raw)
            return
        try:
            data = self._decoder.decompress(raw, self._room())
            self._keep(data)
            while self._decoder.unconsumed_tail and not self.full:
                self._keep(self._decoder.decompress(self._decoder.unconsumed_tail, self._room()))
        except zlib.error as error:
            raise self._fail(f"answer's compressed body is corrupt: {error}") from None

    def _room(self) -> int:
        return self._max_bytes - self._size + 1  # one byte more than fits tells "too large"

    def _keep(self, data: bytes) -> None:
        if self.full or not data:
            return
        self._chunks.append(data)
        self._size += len(data)
        if self._size > self._max_bytes:
            if 200 <= self._status_code < 300:
                raise self._fail(f"answer is larger than {self._max_bytes} bytes")
            self.full = True

    def text(self) -> str:
        """The decoded body as text (Kore answers UTF-8 JSON), at most ``max_bytes`` of it."""
        return b"".join(self._chunks)[: self._max_bytes].decode("utf-8", errors="replace")


def _kore_error(body: Any) -> tuple[str | None, Any]:
    """Kore's error text and code from ``{"errors":[{"msg"|"message", "code"}]}`` or a flat body."""
    if not isinstance(body, Mapping):
        return (_truncate(body) if isinstance(body, str) and body.strip() else None), None
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


def retry_after_seconds(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
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
            seconds = parsedate_to_datetime(value).timestamp() - now()
        except (TypeError, ValueError, OverflowError):
            return None
        if seconds <= 0:
            return None  # a date in the past
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


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
        body: Any = _json(body_text) if body_text.strip() else {}
    except ValueError:
        body = body_text
    text, code = _kore_error(body)
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


def _require_success(answer: ApiAnswer) -> Mapping[str, Any]:
    """The body as an object whose API-level ``status``, if any, is ``"success"``."""
    body = answer.body
    if not isinstance(body, Mapping):
        raise answer.fail(f"expected a JSON object, got {type(body).__name__}")
    api_status = body.get("status")
    if api_status is not None and str(api_status).lower() != "success":
        text, code = _kore_error(body)
        raise CampaignApiError(
            text or f"Kore answered status {api_status!r}",
            status_code=answer.status_code,
            kore_code=code,
            method=answer.request.method,
            path=answer.request.path,
        )
    return body


def campaign_id_of(campaign: Mapping[str, Any]) -> str | None:
    """SMS answers carry ``_id``, voice answers ``id``."""
    value = campaign.get("_id") or campaign.get("id")
    return str(value) if value else None


def created_at(campaign: Mapping[str, Any]) -> datetime | None:
    """When Kore created the campaign (its ISO 8601 ``createdAt``), or None when unreadable."""
    stamp = campaign.get("createdAt")
    if not isinstance(stamp, str):
        return None
    try:
        instant = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=timezone.utc)


def creation_order(campaign: Mapping[str, Any]) -> tuple[datetime, str]:
    """Sort key: first created first, ties by id; a campaign without a readable time sorts last."""
    return created_at(campaign) or datetime.max.replace(tzinfo=timezone.utc), campaign_id_of(campaign) or ""


def parse_campaign(answer: ApiAnswer) -> dict[str, Any]:
    """A campaign object, bare or wrapped in ``{status, message, data}``; it must carry an id."""
    body = answer.body
    if isinstance(body, Mapping) and isinstance(body.get("data"), Mapping):
        campaign = dict(_require_success(answer)["data"])
    elif isinstance(body, Mapping) and campaign_id_of(body):
        return dict(body)
    else:
        _require_success(answer)  # a bare answer without an id may be an API-level failure
        campaign = {}
    if not campaign_id_of(campaign):
        raise answer.fail("answer lacks the campaign id (_id)")
    return campaign


def parse_status(answer: ApiAnswer) -> str:
    """The campaign status from the status view ``{status:"success", data:{id, status, name}}``."""
    data = _require_success(answer).get("data")
    status = data.get("status") if isinstance(data, Mapping) else None
    if not isinstance(status, str) or not status:
        raise answer.fail("answer lacks data.status")
    return status


def parse_trigger(answer: ApiAnswer) -> dict[str, Any]:
    """A start/stop answer ``{status:"Active"|"Stopped", message, updatedAt, …}``."""
    if not isinstance(answer.body, Mapping) or not isinstance(answer.body.get("status"), str):
        raise answer.fail("answer lacks status")
    return dict(answer.body)


def parse_deleted(answer: ApiAnswer) -> dict[str, Any]:
    """The delete answer ``{status:"success", message, data:{…the deleted campaign…}}``."""
    return dict(_require_success(answer))


#: A listing never reads more pages than this, whatever the server says (100,000 campaigns at 100).
MAX_LIST_PAGES = 1000


def parse_schedule(answer: ApiAnswer) -> dict[str, Any]:
    """An enable/disable-schedule answer ``{status:"success", message, id}``."""
    return dict(_require_success(answer))


@dataclass(frozen=True)
class ContactResultsPage:
    """One page of ``view=contacts``; Kore sends no ``hasMore``, only page counts."""

    results: list[dict[str, Any]]
    page: int
    total_pages: int | None
    total_results: int | None


def parse_contact_results(answer: ApiAnswer) -> ContactResultsPage:
    """``{data:{results, page, limit, totalPages, totalResults}}``."""
    data, results = _results_of(answer)
    page = _count(data, "page")
    return ContactResultsPage(
        results=results,
        page=page if page is not None else 0,
        total_pages=_count(data, "totalPages"),
        total_results=_count(data, "totalResults"),
    )


def _results_of(answer: ApiAnswer) -> tuple[Mapping[str, Any], list[dict[str, Any]]]:
    """A paged answer's ``data`` and its ``data.results`` objects."""
    data = _require_success(answer).get("data")
    results = data.get("results") if isinstance(data, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(results, list):
        raise answer.fail("answer lacks data.results")
    return data, [dict(item) for item in results if isinstance(item, Mapping)]


def _count(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class CampaignPage:
    """One page of the list endpoint."""

    results: list[dict[str, Any]]
    has_more: bool
    total_pages: int | None
    total_results: int | None


def parse_page(answer: ApiAnswer) -> CampaignPage:
    """A page of ``getAllCampaignDetails``: ``{data:{results, hasMore, totalPages, totalResults}}``."""
    data, results = _results_of(answer)
    has_more = data.get("hasMore", False)
    if isinstance(has_more, str) and has_more.strip().lower() in ("true", "false"):
        has_more = has_more.strip().lower() == "true"  # never bool("false"), which is True
    if not isinstance(has_more, bool):
        raise answer.fail(f"data.hasMore must be true or false, got {has_more!r}")
    return CampaignPage(
        results=results,
        has_more=has_more,
        total_pages=_count(data, "totalPages"),
        total_results=_count(data, "totalResults"),
    )


# --- contact-list answers ------------------------------------------------------------------


def parse_contact_list(answer: ApiAnswer) -> dict[str, Any]:
    """A contact list from ``{status:"success", data:{_id:"cl-…", totalRecordCount, …}}``."""
    data = _require_success(answer).get("data")
    if not isinstance(data, Mapping) or not data.get("_id"):
        raise answer.fail("answer lacks data._id (the contact list id)")
    return dict(data)


def parse_contact_lists(answer: ApiAnswer) -> list[dict[str, Any]]:
    """Every list of ``getAllListDetails``: ``{status:"success", data:[…]}``."""
    data = _require_success(answer).get("data")
    if not isinstance(data, list):
        raise answer.fail("answer lacks the data array of contact lists")
    return [dict(item) for item in data if isinstance(item, Mapping)]


def parse_contacts_page(answer: ApiAnswer) -> CampaignPage:
    """A page of ``getAllContacts``: the same ``{data:{results, hasMore, …}}`` shape as campaigns."""
    return parse_page(answer)


def parse_contacts_queued(answer: ApiAnswer) -> str:
    """``addContacts`` answers only ``{message: "Adding contacts … is in progress"}``."""
    body = _require_success(answer)
    return str(body.get("message") or "")


def record_count(contact_list: Mapping[str, Any]) -> int:
    """``totalRecordCount`` of a list, which must be a whole number."""
    count = contact_list.get("totalRecordCount")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise CampaignResponseError(f"contact list {contact_list.get('_id')} has no valid totalRecordCount")
    return count


# --- retries -------------------------------------------------------------------------------


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
