"""DAGs of the triggerer test (tests/e2e/test_triggerer_events.py), Airflow 3.3 and newer.

``kore_e2e_on_completed`` runs once per campaign named ``Watched *`` that completes: an
``AssetWatcher`` over ``CampaignEventTrigger``. ``kore_e2e_start_and_wait`` starts the campaign
its run's conf names and waits for it on the triggerer.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_campaign_provider.operators.campaign import StartCampaignOperator
from airflow_campaign_provider.triggers.events import CampaignEventTrigger

COMPLETED = Asset(
    name="kore_e2e_completed",
    uri="kore-e2e://campaigns/completed",
    watchers=[
        AssetWatcher(
            name="kore_e2e_completed_watcher",
            trigger=CampaignEventTrigger(statuses=["Completed"], name_pattern="Watched *", poll_interval=1.0),
        )
    ],
)

with DAG(
    "kore_e2e_on_completed",
    schedule=[COMPLETED],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
):

    @task
    def completed_campaigns(triggering_asset_events: Any = None) -> list[str]:
        """The campaign ids of the events that triggered this run."""
        return [
            event.extra["payload"]["campaign_id"]
            for events in (triggering_asset_events or {}).values()
            for event in events
        ]

    completed_campaigns()

with DAG(
    "kore_e2e_start_and_wait",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    params={"campaign_id": ""},
):
    StartCampaignOperator(
        task_id="start",
        campaign_id="{{ params.campaign_id }}",
        wait_for_completion=True,
        deferrable=True,
        poll_interval=1.0,
        retries=0,
    )
