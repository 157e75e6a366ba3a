"""Stop and delete named Kore.ai campaigns, then contact lists, when an event says they are done.

Use this to clean campaigns up once something outside them decides they are finished: another
DAG (``kore_campaign_segments`` publishes its completed campaigns), another system through
Airflow's REST API (``POST /api/v2/assets/events`` with ``extra={"campaign_ids": [...]}``), or a
person who triggers it with the ids in the run's conf::

    airflow dags trigger kore_campaign_teardown --conf '{"campaign_ids": ["cd-…", "cd-…"]}'

It is scheduled on the asset ``kore_campaigns_finished`` and reads the ids from every event that
triggered the run (``extra["campaign_ids"]``) and from the run's conf (``campaign_ids``). One
``TeardownCampaignsOperator`` task handles them all, however many (no task mapping, so no limit
of 1,024): it learns their statuses a list page (100 campaigns) at a time, stops each ``Active``
one and deletes each campaign exactly once, inside the account's request budget; one already
stopped, completed or never started is only deleted, one already gone costs nothing. A retry
re-reads the statuses and finishes the rest, so rerunning the DAG is safe. A name that is not a
campaign id fails the run before any campaign is touched. Its report (per campaign what was done)
is the task's XCom.

Contact lists named the same way (``extra["contact_list_ids"]``, the ``contact_list_ids`` param)
are deleted once every campaign is gone; a list already gone counts as done, and one that a
running campaign still uses is refused (that campaign was not named).

Connection: ``kore_campaign_default``. SMS campaigns only (``campaign_type="sms"``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG, Asset, Param, task

from airflow_campaign_provider.exceptions import InvalidCampaignArgumentError
from airflow_campaign_provider.operators.contact_list import DeleteContactListOperator
from airflow_campaign_provider.operators.teardown import (
    TeardownCampaignsOperator,
    event_ids,
    unique_ids,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

#: The asset ``kore_campaign_segments`` updates when its campaigns complete.
CAMPAIGNS_FINISHED = Asset(name="kore_campaigns_finished", uri="kore://campaigns/finished")


def ids_to_remove(key: str, what: str, context: Mapping[str, Any]) -> list[str]:
    """Every id under ``key`` in the params and the triggering events' extras, each once; a bad
    one fails the task without retries (nothing is removed then)."""
    named = [
        (f"params.{key}", context["params"].get(key, [])),
        *event_ids(key, context.get("triggering_asset_events") or {}),
    ]
    try:
        ids = unique_ids(named)
    except InvalidCampaignArgumentError as error:
        raise AirflowFailException(f"Not removing any {what}: {error}") from error
    log.info("%d %s(s) to remove: %s", len(ids), what, ", ".join(ids) or "none")
    return ids


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
    def contact_lists_to_remove(**context: Any) -> list[str]:
        """Every contact list id the conf and the triggering events name, each once."""
        return ids_to_remove("contact_list_ids", "contact list", context)

    @task
    def report(teardown: Mapping[str, Any]) -> dict[str, list[str]]:
        """Which campaigns this run deleted and which were already gone."""
        outcome: dict[str, list[str]] = {"deleted": [], "already_gone": []}
        for campaign in teardown["campaigns"]:
            gone = campaign["action"] == "already_gone"
            outcome["already_gone" if gone else "deleted"].append(campaign["campaign_id"])
        log.info(
            "Deleted %d campaign(s): %s. Already gone: %s.",
            len(outcome["deleted"]),
            ", ".join(outcome["deleted"]) or "none",
            ", ".join(outcome["already_gone"]) or "none",
        )
        return outcome

    remove = TeardownCampaignsOperator(
        task_id="stop_and_delete",
        conf_key="campaign_ids",
        asset_event_key="campaign_ids",
    )
    remove_lists = DeleteContactListOperator.partial(
        task_id="delete_contact_list", missing_ok=True, trigger_rule="none_failed"
    ).expand(contact_list_id=contact_lists_to_remove())
    report(remove.output) >> remove_lists
