"""Stop and delete named Kore.ai campaigns, then contact lists, when an event says they are done.

Use this to clean campaigns up once something outside them decides they are finished: another
DAG (``kore_campaign_segments`` publishes its completed campaigns), another system through
Airflow's REST API (``POST /api/v2/assets/events`` with ``extra={"campaign_ids": [...]}``), or a
person who triggers it with the ids in the run's conf::

    airflow dags trigger kore_campaign_teardown --conf '{"campaign_ids": ["cd-…", "cd-…"]}'

It is scheduled on the asset ``kore_campaigns_finished`` and reads the ids from every event that
triggered the run (``extra["campaign_ids"]``) and from the run's conf (``campaign_ids``). On
Airflow 3.3 it is also scheduled on ``kore_campaigns_overdue``, an asset an ``AssetWatcher`` keeps
with a ``CampaignEventTrigger``: every campaign that has been ``Active`` longer than
``KORE_TEARDOWN_ACTIVE_MINUTES`` (default 240) and whose name matches ``KORE_TEARDOWN_NAME_PATTERN``
(default ``*``) fires one event, once, and the teardown stops and deletes it. (Airflow 3.1 and 3.2
have no asset state store to keep the watcher's cursor across a triggerer restart, so there the
DAG is scheduled on ``kore_campaigns_finished`` alone.) One
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
import os
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
from airflow_campaign_provider.triggers.events import AIRFLOW_3_3_PLUS, CampaignEventTrigger

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

#: The asset ``kore_campaign_segments`` updates when its campaigns complete.
CAMPAIGNS_FINISHED = Asset(name="kore_campaigns_finished", uri="kore://campaigns/finished")
#: How often the watcher polls the account (one list call a poll serves every watcher of it).
POLL_SECONDS = float(os.environ.get("KORE_EXAMPLE_POLL_SECONDS", "60"))
#: A campaign Active longer than this is overdue: it should have finished by now.
ACTIVE_MINUTES = float(os.environ.get("KORE_TEARDOWN_ACTIVE_MINUTES", "240"))
NAME_PATTERN = os.environ.get("KORE_TEARDOWN_NAME_PATTERN", "*")

if AIRFLOW_3_3_PLUS:
    from airflow.sdk import AssetWatcher

    #: One event per campaign Active longer than ACTIVE_MINUTES, fired once (the cursor is kept
    #: in this asset's state store, so a triggerer restart repeats none).
    CAMPAIGNS_OVERDUE = Asset(
        name="kore_campaigns_overdue",
        uri="kore://campaigns/overdue",
        watchers=[
            AssetWatcher(
                name="kore_campaigns_overdue_watcher",
                trigger=CampaignEventTrigger(
                    statuses=[],
                    active_longer_than_minutes=ACTIVE_MINUTES,
                    name_pattern=NAME_PATTERN,
                    poll_interval=POLL_SECONDS,
                ),
            )
        ],
    )
    SCHEDULE: Any = CAMPAIGNS_FINISHED | CAMPAIGNS_OVERDUE
else:
    SCHEDULE = [CAMPAIGNS_FINISHED]


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
    schedule=SCHEDULE,
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
