"""Kore's answers read once for both transports: bounded body decoding, then one parser per call."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_campaign_provider import clock
from airflow_campaign_provider.api.errors import (
    decode_json,
    error_for_answer,
    kore_error_of,
    shorten,
    transport_error,
)
from airflow_campaign_provider.api.requests import ACCEPTED_ENCODINGS, ApiRequest
from airflow_campaign_provider.exceptions import (
    CampaignApiError,
    CampaignResponseError,
)

#: An answer's body is read at most this large once decoded; a larger 2xx is refused.
MAX_ANSWER_BYTES = 8 * 1024 * 1024


#: The transports read an answer's body in chunks of at most this many bytes.
READ_CHUNK_BYTES = 64 * 1024


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
        return ApiAnswer(request, status_code, decode_json(text))
    except ValueError:
        raise answer.fail(f"answer is not JSON: {shorten(text, 120)!r}") from None


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
        max_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self._request = request
        self._status_code = status_code
        self._deadline = deadline
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
        if clock.monotonic() >= self._deadline:
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


def _require_success(answer: ApiAnswer) -> Mapping[str, Any]:
    """The body as an object whose API-level ``status``, if any, is ``"success"``."""
    body = answer.body
    if not isinstance(body, Mapping):
        raise answer.fail(f"expected a JSON object, got {type(body).__name__}")
    api_status = body.get("status")
    if api_status is not None and str(api_status).lower() != "success":
        text, code = kore_error_of(body)
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
