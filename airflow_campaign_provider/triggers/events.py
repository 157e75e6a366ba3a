"""CampaignEventTrigger: an ``AssetWatcher`` trigger that fires when an account's campaigns reach a status.

A DAG scheduled on an asset watched by this trigger runs once per campaign that moves *into* a
watched status (``Completed``, ``Stopped``, ...) or stays ``Active`` longer than a number of
minutes; each event carries the campaign's id, name, type, status and when it changed (Kore's
``updatedAt``), which the DAG reads from its ``triggering_asset_events`` (``extra["payload"]``).

* **Once per change.** Each watcher keeps a cursor: the status each campaign had when last seen
  and whether it has fired for it. A campaign fires when it enters a watched status and never
  again while that status holds; leaving it and coming back fires again. On Airflow 3.3 the
  cursor lives in the watched asset's ``asset_state_store`` (written before the event is handed
  to the triggerer), so a triggerer restart, or the trigger moving to another triggerer, neither
  repeats an event nor misses a change that happened meanwhile. Without a state store (Airflow
  3.1 and 3.2, or a trigger watched by several assets) the cursor lives in memory: after a
  restart the first poll is a new baseline, so a change that happened while no triggerer ran is
  not fired (with ``include_existing=True``, every campaign in a watched status fires again).
* **One list call per poll for every watcher of the account.** On Airflow 3.3 the watchers of one
  connection, campaign type and poll interval share one stream (``shared_stream_key``): one poll
  lists the campaigns a page (100) at a time and every watcher filters the same snapshot. On 3.1
  and 3.2 (no shared streams; the feature is skipped by version) each watcher polls on its own.
  Every call takes a slot of the account's request budget.
* **Never a blocking read on the event loop.** The connection is read through the async hook.

The first poll of a watcher without a cursor is its baseline: campaigns already in a watched
status then do not fire, unless ``include_existing``.
"""

from __future__ import annotations

import fnmatch
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow import __version__ as airflow_version
from airflow.triggers.base import BaseEventTrigger, TriggerEvent
from packaging.version import Version

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import MAX_LIST_PAGES, CampaignType, campaign_id_of
from airflow_campaign_provider.exceptions import (
    CampaignAuthError,
    CampaignError,
    CampaignResponseError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.status import CampaignStatus

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Hashable, Iterable, Mapping

log = logging.getLogger(__name__)

#: Shared streams (one poll for every watcher) and the asset state store (the cursor) came with Airflow 3.3.
AIRFLOW_3_3_PLUS = Version(Version(airflow_version).base_version) >= Version("3.3.0")
#: The key of the cursor in the watched asset's state store.
CURSOR_KEY = "kore_campaign_event_cursor"
PAGE_SIZE = 100
#: Errors a poll cannot outlive: the connection or the credentials are wrong.
_FATAL_ERRORS = (InvalidCampaignArgumentError, CampaignAuthError)


@dataclass(frozen=True)
class CampaignSnapshot:
    """Every campaign of one type as one poll saw them (shared, never changed, by every watcher)."""

    taken_at: float
    campaigns: tuple[tuple[str, str | None, str, str | None], ...]  # id, name, status, updatedAt
    calls: int


class CampaignWatch:
    """One watcher's rules and cursor: which campaigns fire, and which already did.

    The cursor maps a campaign id to ``[status, since (epoch seconds), fired]``; it is plain JSON.
    """

    def __init__(
        self,
        campaign_type: str,
        statuses: tuple[str, ...],
        name_pattern: str | None,
        active_longer_than_minutes: float | None,
        include_existing: bool,
        cursor: Mapping[str, Any] | None = None,
    ) -> None:
        self.campaign_type = campaign_type
        self.statuses = statuses
        self.name_pattern = name_pattern.lower() if name_pattern else None
        self.active_seconds = None if active_longer_than_minutes is None else active_longer_than_minutes * 60
        self.include_existing = include_existing
        self.baseline_done = cursor is not None
        self.cursor: dict[str, list[Any]] = {k: list(v) for k, v in (cursor or {}).items()}

    def _takes(self, name: str | None) -> bool:
        return self.name_pattern is None or (
            isinstance(name, str) and fnmatch.fnmatchcase(name.lower(), self.name_pattern)
        )

    def _due(self, status: str, since: float, now: float) -> bool:
        if status in self.statuses:
            return True
        active = CampaignStatus.ACTIVE.value
        return self.active_seconds is not None and status == active and now - since >= self.active_seconds

    def observe(self, snapshot: CampaignSnapshot) -> tuple[list[dict[str, Any]], bool]:
        """The events this snapshot fires, and whether the cursor changed."""
        now, events, changed = snapshot.taken_at, [], False
        seen: set[str] = set()
        for campaign_id, name, status, updated_at in snapshot.campaigns:
            if not self._takes(name):
                continue
            seen.add(campaign_id)
            entry = self.cursor.get(campaign_id)
            if entry is None or entry[0] != status:
                since = _epoch(updated_at) or now
                fired = not self.baseline_done and not self.include_existing and self._due(status, since, now)
                entry = self.cursor[campaign_id] = [status, since, fired]
                changed = True
            if not entry[2] and self._due(status, entry[1], now):
                entry[2], changed = True, True
                events.append(self._event(campaign_id, name, status, entry[1], now))
        for gone in set(self.cursor) - seen:
            del self.cursor[gone]
            changed = True
        if not self.baseline_done:
            self.baseline_done, changed = True, True
        return events, changed

    def _event(
        self, campaign_id: str, name: str | None, status: str, since: float, now: float
    ) -> dict[str, Any]:
        return {
            "campaign_id": campaign_id,
            "name": name,
            "campaign_type": self.campaign_type,
            "status": status,
            "changed_at": _iso(since),
            "observed_at": _iso(now),
            "reason": "status" if status in self.statuses else "active_longer_than",
        }


class CampaignEventTrigger(BaseEventTrigger):
    """
    Fire one event per campaign per change into a watched status; for ``AssetWatcher``.

    See the module docstring for the guarantees. Each event's payload: ``campaign_id``, ``name``,
    ``campaign_type``, ``status``, ``changed_at`` (ISO 8601, Kore's ``updatedAt``, or when the
    poll first saw it), ``observed_at`` and ``reason`` (``status`` or ``active_longer_than``).

    :param statuses: Statuses that fire, e.g. ``["Completed", "Stopped"]``; may be empty when
        ``active_longer_than_minutes`` is set.
    :param active_longer_than_minutes: Also fire for a campaign ``Active`` this long (counted from
        when it became ``Active``), once per time it is started.
    :param name_pattern: Only campaigns whose name matches this shell-style pattern (``*``, ``?``),
        case-insensitively.
    :param campaign_type: ``sms`` (default) or ``voice``.
    :param poll_interval: Seconds between two polls of the account.
    :param include_existing: Fire on the first poll for campaigns already in a watched status.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    :param stream_id: Bot/stream id overriding the connection's.
    """

    def __init__(
        self,
        *,
        statuses: Iterable[str] = (CampaignStatus.COMPLETED.value,),
        active_longer_than_minutes: float | None = None,
        name_pattern: str | None = None,
        campaign_type: str = "sms",
        poll_interval: float = 60.0,
        include_existing: bool = False,
        kore_conn_id: str = "kore_campaign_default",
        stream_id: str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(statuses, str):
            statuses = [statuses]
        self.statuses = tuple(dict.fromkeys(statuses))
        if self.statuses:
            CampaignStatus.check_is_valid(self.statuses)
        if active_longer_than_minutes is not None:
            active_longer_than_minutes = _positive(active_longer_than_minutes, "active_longer_than_minutes")
        if not self.statuses and active_longer_than_minutes is None:
            raise InvalidCampaignArgumentError("statuses", "name a status, or set active_longer_than_minutes")
        if name_pattern is not None and (not isinstance(name_pattern, str) or not name_pattern.strip()):
            raise InvalidCampaignArgumentError(
                "name_pattern", f"must be a non-blank pattern, got {name_pattern!r}"
            )
        self.active_longer_than_minutes = active_longer_than_minutes
        self.name_pattern = name_pattern
        self.campaign_type = CampaignType.parse(campaign_type).value
        self.poll_interval = _positive(poll_interval, "poll_interval")
        self.include_existing = bool(include_existing)
        self.kore_conn_id = kore_conn_id
        self.stream_id = stream_id or None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-safe keyword arguments; they rebuild an equal trigger."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "statuses": list(self.statuses),
                "active_longer_than_minutes": self.active_longer_than_minutes,
                "name_pattern": self.name_pattern,
                "campaign_type": self.campaign_type,
                "poll_interval": self.poll_interval,
                "include_existing": self.include_existing,
                "kore_conn_id": self.kore_conn_id,
                "stream_id": self.stream_id,
            },
        )

    # --- the shared poll (Airflow 3.3) -------------------------------------------------------

    def shared_stream_key(self) -> Hashable | None:
        """Watchers of one connection, stream, campaign type and poll interval share one poll."""
        if not AIRFLOW_3_3_PLUS:
            return None
        return (
            "kore-campaign-events",
            self.kore_conn_id,
            self.stream_id,
            self.campaign_type,
            self.poll_interval,
        )

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """Poll forever: one snapshot of the account's campaigns per ``poll_interval``.

        A poll that fails past the hook's retry policy is logged and skipped (the next one
        catches up: the cursor compares statuses, not events); a wrong connection or credentials
        end the stream, and with it every watcher sharing it, with the error.
        """
        from airflow_campaign_provider.hooks.campaign_async import CampaignAsyncHook

        hook = CampaignAsyncHook(
            kwargs.get("kore_conn_id", "kore_campaign_default"), stream_id=kwargs.get("stream_id")
        )
        campaign_type, poll_interval = str(kwargs.get("campaign_type", "sms")), float(kwargs["poll_interval"])
        try:
            while True:  # the contract of a shared stream: yield forever, or raise
                started = clock.monotonic()
                try:
                    yield await read_snapshot(hook, campaign_type)
                except _FATAL_ERRORS:
                    raise
                except CampaignError as error:
                    log.warning("Polling Kore.ai campaigns failed; trying again next poll: %s", error)
                await clock.sleep_async(poll_interval - (clock.monotonic() - started))
        finally:
            await hook.aclose()

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        """This watcher's events from the shared snapshots; the cursor saved before each batch."""
        watch = CampaignWatch(
            self.campaign_type,
            self.statuses,
            self.name_pattern,
            self.active_longer_than_minutes,
            self.include_existing,
            await self._load_cursor(),
        )
        async for snapshot in shared_stream:
            events, changed = watch.observe(snapshot)
            if changed:
                await self._save_cursor(watch.cursor)
            for payload in events:
                self.log.info(
                    "Campaign %s (%s) is %s.", payload["campaign_id"], payload["name"], payload["status"]
                )
                yield TriggerEvent(payload)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Without a shared stream (Airflow 3.1, 3.2): this watcher polls on its own."""
        async for event in self.filter_shared_stream(self.open_shared_stream(self.serialize()[1])):
            yield event

    # --- the cursor --------------------------------------------------------------------------

    async def _load_cursor(self) -> dict[str, Any] | None:
        store = self._store()
        if store is None:
            return None
        value = await store.aget(CURSOR_KEY)
        return value if isinstance(value, dict) else None

    async def _save_cursor(self, cursor: dict[str, list[Any]]) -> None:
        store = self._store()
        if store is not None:
            await store.aset(CURSOR_KEY, cursor)

    def _store(self) -> Any:
        """The watched asset's state store, or None (Airflow < 3.3, or several assets watch this trigger)."""
        store = getattr(self, "asset_state_store", None)
        if store is None or getattr(store, "_total", 1) != 1:
            if store is not None and not getattr(self, "_warned_store", False):
                self.log.warning("Several assets watch this trigger: its cursor is kept in memory only.")
                self._warned_store = True
            return None
        return store


async def read_snapshot(hook: Any, campaign_type: str) -> CampaignSnapshot:
    """Every campaign of ``campaign_type``, a list page (100) at a time."""
    campaigns: dict[str, tuple[str, str | None, str, str | None]] = {}
    taken_at = clock.wall()
    for page in range(1, MAX_LIST_PAGES + 1):
        result = await hook.list_campaigns_page(campaign_type, None, page, PAGE_SIZE)
        before = len(campaigns)
        for c in result.results:
            campaign_id, status = campaign_id_of(c), c.get("status")
            if campaign_id and isinstance(status, str):
                name, updated = c.get("name"), c.get("updatedAt")
                campaigns[campaign_id] = (
                    campaign_id,
                    name if isinstance(name, str) else None,
                    status,
                    updated if isinstance(updated, str) else None,
                )
        last = result.total_pages is not None and page >= result.total_pages
        if len(campaigns) == before or not result.has_more or last:
            return CampaignSnapshot(taken_at, tuple(campaigns.values()), page)
    raise CampaignResponseError(f"the campaign list did not end within {MAX_LIST_PAGES} pages")


def _positive(value: Any, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (math.isfinite(number) and number > 0):
        raise InvalidCampaignArgumentError(field, f"must be a positive number, got {value!r}")
    return number


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        instant = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)).timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat()
