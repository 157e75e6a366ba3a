"""TeardownCampaignsOperator: stop and delete any number of campaigns in one task, each exactly once.

A thin layer over :func:`~airflow_campaign_provider.lifecycle.teardown.teardown_campaigns`, which
owns the guarantees. Importing this module stays cheap (DAG files import it at every parse): the
hook and the lifecycle are imported when the task runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import AirflowFailException
from airflow_campaign_provider.exceptions import CampaignArgumentsError, InvalidCampaignArgumentError
from airflow_campaign_provider.hooks import DEFAULT_CONN_ID
from airflow_campaign_provider.operators.base import CampaignBaseOperator

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from airflow.sdk import Context


class TeardownCampaignsOperator(CampaignBaseOperator):
    """
    Stop (if running) and delete Kore.ai campaigns, any number of them in one task, each exactly once.

    The campaigns are named by id, from any of: ``campaign_ids`` (a list, or an ``XComArg``),
    the run's conf (``conf_key``), the triggering asset events (``asset_event_key``: a list of ids
    in the event's extra under that key, or the single ``campaign_id`` an
    :class:`~airflow_campaign_provider.triggers.events.CampaignEventTrigger` event carries) — or,
    when none of these is set, chosen by a filter (``statuses``, ``name_pattern``,
    ``created_before``; at least one). Statuses are learnt a list page at a time, so the calls are
    about list pages + stops + deletes, all inside the account's request budget. There is no
    mapping, so no ``max_map_length`` limit: 10,000 campaigns are one task.

    Returns (XCom) the report: per campaign ``action`` (``stopped_and_deleted``, ``deleted``,
    ``already_gone``; ``failed`` or ``not_reached`` with a ``reason``), the counts and the calls.
    If any campaign is left the task fails, its report pushed under ``teardown_report``; a retry
    re-reads the statuses and finishes the rest, never stopping or deleting anything twice. A bad
    id fails the task without retries before any call. ``dry_run`` lists what would be done and
    sends no stop and no delete.

    Lineage: each campaign it deleted whose name it learnt is an OpenLineage output, marked
    dropped. Asset events go to the Kore campaign assets the DAG declares as ``outlets`` (the
    event's extra says what was done to that campaign), not through an alias: a teardown of
    10,000 campaigns would otherwise create 10,000 assets.

    :param campaign_ids: Ids (``cd-…``) to tear down; templated.
    :param conf_key: Also take the ids listed under this key of the run's conf.
    :param asset_event_key: Also take the ids the triggering asset events name under this key.
    :param campaign_type: ``"sms"`` (default) or ``"voice"``: the list whose campaigns are taken.
    :param statuses: Filter: Kore statuses to take, e.g. ``["Completed", "Stopped"]``.
    :param name_pattern: Filter: a shell-style name pattern, case-insensitive, e.g. ``"Promo *"``.
    :param created_before: Filter: only campaigns created before this aware datetime (or ISO 8601).
    :param dry_run: List what would be done; stop and delete nothing.
    :param max_workers: Calls in flight at once; the budget, not they, sets the pace.
    :param stream_id: Bot/stream id overriding the connection's.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    :param hook_params: The hook's settings for this task (see :class:`CampaignBaseOperator`).
    """

    template_fields: Sequence[str] = (
        "kore_conn_id",
        "stream_id",
        "campaign_ids",
        "campaign_type",
        "statuses",
        "name_pattern",
        "created_before",
    )
    ui_color = "#f4c7c3"

    def __init__(
        self,
        *,
        campaign_ids: Sequence[str] | None = None,
        conf_key: str | None = None,
        asset_event_key: str | None = None,
        campaign_type: str = "sms",
        statuses: Sequence[str] | None = None,
        name_pattern: str | None = None,
        created_before: datetime | str | None = None,
        dry_run: bool = False,
        max_workers: int = 4,
        stream_id: str | None = None,
        kore_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(kore_conn_id=kore_conn_id, stream_id=stream_id, **kwargs)
        self.campaign_ids = campaign_ids
        self.conf_key = conf_key
        self.asset_event_key = asset_event_key
        self.campaign_type = campaign_type
        self.statuses = statuses
        self.name_pattern = name_pattern
        self.created_before = created_before
        self.dry_run_mode = dry_run  # BaseOperator.dry_run is a method
        self.max_workers = max_workers
        problems: list[tuple[str, str]] = []
        by_ids = campaign_ids is not None or conf_key is not None or asset_event_key is not None
        by_filter = statuses is not None or name_pattern is not None or created_before is not None
        if by_ids and by_filter:
            problems.append(
                ("campaign_ids", "give campaign ids (or a conf/asset event key) or a filter, not both")
            )
        if not by_ids and not by_filter:
            problems.append(
                (
                    "campaign_ids",
                    "give campaign_ids, conf_key or asset_event_key, or a filter (statuses, name_pattern, "
                    "created_before): with nothing, every campaign of the account would be taken",
                )
            )
        for name, value in (("conf_key", conf_key), ("asset_event_key", asset_event_key)):
            if value is not None and (not isinstance(value, str) or not value):
                problems.append((name, f"must be a non-empty string, got {value!r}"))
        if not isinstance(dry_run, bool):
            problems.append(("dry_run", f"must be True or False, got {dry_run!r}"))
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            problems.append(("max_workers", f"must be a whole number >= 1, got {max_workers!r}"))
        if problems:
            raise CampaignArgumentsError(problems)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_campaign_provider.lifecycle.teardown import (
            CampaignFilter,
            TeardownIncompleteError,
            teardown_campaigns,
        )

        ids = self._named_ids(context)
        match = (
            None
            if ids is not None
            else CampaignFilter.of(self.statuses, self.name_pattern, self.created_before)
        )
        hook = self.hook
        try:
            report = teardown_campaigns(
                hook,
                ids,
                match=match,
                campaign_type=self.campaign_type,
                dry_run=self.dry_run_mode,
                max_workers=self.max_workers,
            )
        except TeardownIncompleteError as error:
            context["ti"].xcom_push(key="teardown_report", value=error.report.to_dict())
            raise
        finally:
            hook.close()
        return report.to_dict()

    def _named_ids(self, context: Context) -> list[str] | None:
        """Every id named, each once in order, or None when the filter chooses; a bad id fails
        the task without retries before any call."""
        if self.campaign_ids is None and self.conf_key is None and self.asset_event_key is None:
            return None
        named: list[tuple[str, Any]] = []
        if self.campaign_ids is not None:
            named.append(("campaign_ids", self.campaign_ids))
        if self.conf_key is not None:
            conf = getattr(context.get("dag_run"), "conf", None) or {}
            named.append((f"dag_run.conf.{self.conf_key}", conf.get(self.conf_key, [])))
        if self.asset_event_key is not None:
            named.extend(event_ids(self.asset_event_key, context.get("triggering_asset_events") or {}))
        try:
            return unique_ids(named)
        except InvalidCampaignArgumentError as error:
            raise AirflowFailException(
                f"Task {self.task_id}: not tearing down any campaign: {error}"
            ) from error


def event_ids(key: str, events_by_asset: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    """``(where, ids)`` of each triggering asset event: the list under ``key`` in its extra, or
    the one ``campaign_id`` of a :class:`CampaignEventTrigger` event (``extra["payload"]``)."""
    named: list[tuple[str, Any]] = []
    for asset, events in events_by_asset.items():
        for event in events:
            where = f"extra.{key} of {_event_source(event)} on {getattr(asset, 'name', asset)}"
            extra = event.extra or {}
            payload: Mapping[str, Any] = extra["payload"] if isinstance(extra.get("payload"), dict) else {}
            if key in extra:
                named.append((where, extra[key]))
            elif key in payload:
                named.append((where.replace("extra.", "extra.payload.", 1), payload[key]))
            elif "campaign_id" in payload:
                named.append(
                    (where.replace(f"extra.{key}", "extra.payload.campaign_id", 1), [payload["campaign_id"]])
                )
    return named


def unique_ids(named: Sequence[tuple[str, Any]]) -> list[str]:
    """The ids of ``(where, ids)`` pairs, each once, in order; an error naming where a bad one came from."""
    from airflow_campaign_provider.api import validate_campaign_id

    ids: dict[str, None] = {}
    for where, value in named:
        if not isinstance(value, (list, tuple)):
            raise InvalidCampaignArgumentError(where, f"must be a list of ids, got {value!r}")
        for index, campaign_id in enumerate(value):
            ids[validate_campaign_id(campaign_id, f"{where}[{index}]")] = None
    return list(ids)


def _event_source(event: Any) -> str:
    """Where an asset event came from, for error messages."""
    if getattr(event, "source_dag_id", None):
        return f"the event of {event.source_dag_id}/{event.source_run_id}/{event.source_task_id}"
    return f"the event of {event.timestamp.isoformat()}"
