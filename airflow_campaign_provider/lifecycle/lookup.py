"""Finding campaigns by name: Kore keys nothing else a retried task can know before it has an id.

Names compare case-insensitively (as Kore's ``lname``); of several same-named campaigns the first
created comes first. A look-up given the time its caller began reads only the campaigns created
since, newest first, so its cost does not grow with the account.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.api import campaign_id_of, created_at, creation_order

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from airflow_campaign_provider.lifecycle.calls import CampaignCalls

#: Campaigns per page of a look-up by name: the most Kore's list is known to take.
LOOKUP_PAGE_SIZE = 100


def find_campaign_by_name(
    hook: CampaignCalls, name: str, campaign_type: str = "sms", *, created_after: datetime | None = None
) -> dict[str, Any] | None:
    """The campaign whose name matches case-insensitively (as Kore's ``lname``), or None; of
    several (Kore may not refuse a taken name), the first created. ``created_after``: see
    :func:`campaigns_named`."""
    named = hook.campaigns_named(name, campaign_type, created_after=created_after)
    return named[0] if named else None


def campaigns_named(
    hook: CampaignCalls, name: str, campaign_type: str = "sms", *, created_after: datetime | None = None
) -> list[dict[str, Any]]:
    """Every campaign with this name (case-insensitively), first created first (then by id).

    Without ``created_after`` the whole account is read. With it, only campaigns created since
    then (less ``hook.params.lookup_clock_margin_seconds``, for Kore's clock) are looked for, newest first, so the
    look-up reads the pages created since, whatever the account's size. A server that does not
    list newest first is noticed from its page and read whole instead (a warning says so).
    """
    wanted = name.strip().lower()
    if created_after is None:
        listing = hook.iter_campaigns(campaign_type, page_size=LOOKUP_PAGE_SIZE)
    else:
        listing = _created_since(
            hook, campaign_type, created_after - timedelta(seconds=hook.params.lookup_clock_margin_seconds)
        )
    named: dict[str, dict[str, Any]] = {}
    for campaign in listing:
        if str(campaign.get("lname") or campaign.get("name") or "").strip().lower() == wanted:
            named.setdefault(campaign_id_of(campaign) or f"#{len(named)}", campaign)
    return sorted(named.values(), key=creation_order)


def _created_since(hook: CampaignCalls, campaign_type: str, since: datetime) -> Iterator[dict[str, Any]]:
    """Campaigns newest first, up to the first page that reaches back before ``since``.

    Stops early only on pages proven newest first: every ``createdAt`` readable, none newer
    than the one before it, and two different times seen (a page of equal times proves no
    order). Anything else falls back to reading every page.
    """
    newest: datetime | None = None
    previous: datetime | None = None
    pages = hook._campaign_pages(campaign_type, None, LOOKUP_PAGE_SIZE, newest_first=True)
    for page in pages:
        read = [created_at(campaign) for campaign in page]
        stamps = [stamp for stamp in read if stamp is not None]
        run = [previous, *stamps] if previous is not None else stamps
        ordered = len(stamps) == len(read) and all(b <= a for a, b in pairwise(run))
        yield from page
        if not ordered:
            hook.log.warning(
                "Kore.ai did not list %s campaigns newest first (sortBy createdAt desc): "
                "reading the whole account to look the name up.",
                campaign_type,
            )
            yield from hook.iter_campaigns(campaign_type, page_size=LOOKUP_PAGE_SIZE)
            return
        if stamps:
            newest = newest or stamps[0]
            previous = stamps[-1]
        if previous is not None and previous < since and newest != previous:
            return  # every later page lists campaigns created before ``since``
