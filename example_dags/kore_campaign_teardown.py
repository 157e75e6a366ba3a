"""Stop and delete named Kore.ai campaigns, then contact lists, when an event says they are done.

Use this to clean campaigns up once something outside them decides they are finished: another
DAG (``kore_campaign_segments`` publishes its completed campaigns), another system through
Airflow's REST API (``POST /api/v2/assets/events`` with ``extra={"campaign_ids": [...]}``), or a
person who triggers it with the ids in the run's conf::

    airflow dags trigger kore_campaign_teardown --conf '{"campaign_ids": ["cd-…", "cd-…"]}'

It is scheduled on the asset ``kore_campaigns_finished`` and reads the ids from every event that
triggered the run (``extra["campaign_ids"]``) and from the ``campaign_ids`` param. Contact lists
named the same way (``extra["contact_list_ids"]``, the ``contact_list_ids`` param) are deleted
once every campaign is gone; a list already gone counts as done, and one that a running campaign
still uses is refused (that campaign was not named). Each named
campaign is handled exactly once per run, however often it is named: an ``Active`` one is
stopped before it is deleted, one already stopped, completed or never started is deleted as it
is, and one already gone counts as done. Rerunning the DAG, or retrying a task, is therefore
safe. A name that is not a campaign id fails the run before any campaign is touched.

Connection: ``kore_campaign_default``. SMS campaigns only (``campaign_type="sms"``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG, Asset, Param, task

from airflow_campaign_provider.api import validate_campaign_id
from airflow_campaign_provider.exceptions import InvalidCampaignArgumentError
from airflow_campaign_provider.operators.campaign import DeleteCampaignOperator
from airflow_campaign_provider.operators.contact_list import DeleteContactListOperator

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

log = logging.getLogger(__name__)

#: The asset ``kore_campaign_segments`` updates when its campaigns complete.
CAMPAIGNS_FINISHED = Asset(name="kore_campaigns_finished")


def unique_campaign_ids(named: Iterable[tuple[str, Any]]) -> list[str]:
    """The ids (campaigns', or lists') of ``(where, ids)`` pairs, each once, in order; ValueError
    on a bad one."""
    ids: dict[str, None] = {}
    for where, value in named:
        if not isinstance(value, list):
            raise ValueError(f"{where}: must be a list of ids, got {value!r}")
        for index, campaign_id in enumerate(value):
            try:
                ids[validate_campaign_id(campaign_id, f"{where}[{index}]")] = None
            except InvalidCampaignArgumentError as error:
                raise ValueError(str(error)) from None
    return list(ids)


def named_ids(key: str, context: Mapping[str, Any]) -> list[str]:
    """Every id under ``key`` in the params and in the triggering events' extras, each once."""
    named: list[tuple[str, Any]] = [(f"params.{key}", context["params"].get(key, []))]
    for asset, events in (context.get("triggering_asset_events") or {}).items():
        for event in events:
            named.append((f"extra.{key} of {_event_source(event)} on {asset.name}", event.extra.get(key, [])))
    return unique_campaign_ids(named)


def ids_to_remove(key: str, what: str, context: Mapping[str, Any]) -> list[str]:
    """``named_ids``, failing the task without retries on a bad id (nothing is removed then)."""
    try:
        ids = named_ids(key, context)
    except ValueError as error:
        raise AirflowFailException(f"Not removing any {what}: {error}") from error
    log.info("%d %s(s) to remove: %s", len(ids), what, ", ".join(ids) or "none")
    return ids


def _event_source(event: Any) -> str:
    """Where an asset event came from, for error messages."""
    if event.source_dag_id:
        return f"the event of {event.source_dag_id}/{event.source_run_id}/{event.source_task_id}"
    return f"the event of {event.timestamp.isoformat()}"


with DAG(
    dag_id="kore_campaign_teardown",
    description="Stop and delete the Kore.ai campaigns an asset event or the run's conf names.",
    schedule=[CAMPAIGNS_FINISHED],
    start_date=pendulum.datetime(2025, 1, 6, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "campaign_ids": Param(
            [],
            type="array",
            items={"type": "string", "minLength": 1},
            description="Ids (cd-…) of campaigns to stop and delete, besides those the triggering events name.",
        ),
        "contact_list_ids": Param(
            [],
            type="array",
            items={"type": "string", "minLength": 1},
            description="Ids (cl-…) of contact lists to delete once the campaigns are gone.",
        ),
    },
    tags=["kore", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def campaigns_to_remove(**context: Any) -> list[str]:
        """Every campaign id the conf and the triggering events name, each once."""
        return ids_to_remove("campaign_ids", "campaign", context)

    @task
    def contact_lists_to_remove(**context: Any) -> list[str]:
        """Every contact list id the conf and the triggering events name, each once."""
        return ids_to_remove("contact_list_ids", "contact list", context)

    @task
    def report(removed: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
        """Which campaigns this run deleted and which were already gone."""
        outcome: dict[str, list[str]] = {"deleted": [], "already_gone": []}
        for summary in removed:
            outcome["deleted" if summary["deleted"] else "already_gone"].append(summary["campaign_id"])
        log.info(
            "Deleted %d campaign(s): %s. Already gone: %s.",
            len(outcome["deleted"]),
            ", ".join(outcome["deleted"]) or "none",
            ", ".join(outcome["already_gone"]) or "none",
        )
        return outcome

    lists = contact_lists_to_remove()
    remove = DeleteCampaignOperator.partial(
        task_id="stop_and_delete", stop_first=True, missing_ok=True
    ).expand(campaign_id=campaigns_to_remove())
    remove_lists = DeleteContactListOperator.partial(
        task_id="delete_contact_list", missing_ok=True, trigger_rule="none_failed"
    ).expand(contact_list_id=lists)
    report(remove.output) >> remove_lists
