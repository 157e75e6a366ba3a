"""One bounded pager for every paged read: campaigns, contacts of a list, per-contact results.

A server that misbehaves must not make a read endless or a file grow for ever, so a read ends
on the first of: a page that says it is the last (``hasMore`` false, or ``totalPages`` reached
when the page has no ``hasMore``), an empty page, a short page when the server says nothing
else, a page that adds nothing not seen before (the same page answered again), and the read's
page cap, past which it fails (``CampaignResponseError``) rather than return a partial answer
as if whole. ``totalPages`` is never trusted alone: a page that says there are 10⁹ pages but
repeats itself still ends the read. Rows seen before are dropped, so nothing is yielded twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.api import MAX_LIST_PAGES
from airflow_campaign_provider.exceptions import CampaignResponseError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Page caps, one per read (docs/reliability.md lists them): campaigns and contacts of a list
#: (50 to 100 a page), per-contact results (at most 100 a page: one million rows).
MAX_CAMPAIGN_PAGES = MAX_LIST_PAGES
MAX_CONTACT_PAGES = 10_000
MAX_RESULT_PAGES = 10_000


@dataclass(frozen=True)
class Page:
    """What the pager needs of one answer: its rows and what it says about the next page."""

    results: list[dict[str, Any]]
    has_more: bool | None = None
    total_pages: int | None = None


def row_key(row: dict[str, Any], id_fields: tuple[str, ...] = ("_id", "id")) -> bytes:
    """A small fingerprint of a row: its id when it has one, else its whole content."""
    for name in id_fields:
        value = row.get(name)
        if isinstance(value, str) and value:
            return hashlib.blake2b(f"{name}={value}".encode(), digest_size=12).digest()
    text = json.dumps(row, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=12).digest()


def pages(
    fetch: Callable[[int, int], Page],
    *,
    what: str,
    page_size: int,
    max_pages: int,
    method: str,
    path: str,
    key: Callable[[dict[str, Any]], bytes] = row_key,
) -> Iterator[list[dict[str, Any]]]:
    """The new rows of each page of ``fetch(page_index, rows_read_so_far)``, bounded as above.

    ``page_index`` counts from 0; ``rows_read_so_far`` is what a ``skip`` parameter wants.
    """
    seen: set[bytes] = set()
    read = 0
    for index in range(max_pages):
        page = fetch(index, read)
        new = []
        for row in page.results:
            fingerprint = key(row)
            if fingerprint not in seen:
                seen.add(fingerprint)
                new.append(row)
        read += len(page.results)
        if new:
            yield new
        if not new or _last(page, index, page_size):
            return
    raise CampaignResponseError(
        f"{what} did not end within {max_pages} pages of {page_size}: the server keeps sending new "
        "rows; nothing past that was read",
        method=method,
        path=path,
    )


def _last(page: Page, index: int, page_size: int) -> bool:
    if page.has_more is False or (page.total_pages is not None and index + 1 >= page.total_pages):
        return True
    return page.has_more is None and page.total_pages is None and len(page.results) < page_size
