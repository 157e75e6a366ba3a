"""Export each voice campaign's results when it completes, then delete the campaign.

Use this to keep an account clean without losing what its campaigns learnt: nobody has to name
the campaigns, Kore's own status changes start the runs. On Airflow 3.3 the DAG is scheduled on the asset ``kore_voice_campaigns_completed``, which an
``AssetWatcher`` keeps with a ``CampaignEventTrigger``: every voice campaign of the account that
moves into ``Completed`` fires one event, once (the watcher's cursor is kept in the asset's state
store, so a triggerer restart neither repeats nor misses one), carrying its id, name, type, status
and when it completed. Events that arrive while a run is going are batched into the next run.

Each run writes the per-contact results of every campaign its events name (plus any ids in the
run's conf, ``campaign_ids``) to ``KORE_EXAMPLE_RESULTS_URL/<campaign id>.csv`` (any
``ObjectStoragePath`` URL: ``file://``, ``s3://``, ``gs://``…), then deletes those campaigns with
one ``TeardownCampaignsOperator`` task: only once every export succeeded, so a campaign is never
deleted before its results are safe. Rerunning is safe: an export replaces its file, a campaign
already deleted counts as done.

On Airflow 3.1 and 3.2, which have no asset state store, the asset has no watcher: another DAG
or system posts its events (``extra={"campaign_ids": [...]}``), or a person triggers the DAG with
the ids in the conf.

Connection: ``kore_campaign_default``. Voice campaigns (``campaign_type="voice"``).
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG, Asset, Param, task

from airflow_campaign_provider.exceptions import InvalidCampaignArgumentError
from airflow_campaign_provider.operators.results import ExportCampaignResultsOperator
from airflow_campaign_provider.operators.teardown import TeardownCampaignsOperator, event_ids, unique_ids
from airflow_campaign_provider.triggers.events import AIRFLOW_3_3_PLUS, CampaignEventTrigger

#: How often the watcher polls the account (one list call a poll serves every watcher of it).
POLL_SECONDS = float(os.environ.get("KORE_EXAMPLE_POLL_SECONDS", "60"))
#: Where the results go: any ObjectStoragePath URL.
RESULTS_URL = os.environ.get("KORE_EXAMPLE_RESULTS_URL", "file:///tmp/kore-campaign-results")

if AIRFLOW_3_3_PLUS:
    from airflow.sdk import AssetWatcher

    WATCHERS: list[Any] = [
        AssetWatcher(
            name="kore_voice_campaigns_completed_watcher",
            trigger=CampaignEventTrigger(
                statuses=["Completed"], campaign_type="voice", poll_interval=POLL_SECONDS
            ),
        )
    ]
else:
    WATCHERS = []

CAMPAIGNS_COMPLETED = Asset(
    name="kore_voice_campaigns_completed", uri="kore://campaigns/voice/completed", watchers=WATCHERS
)

with DAG(
    dag_id="kore_campaign_results_export",
    description="Export each completed Kore.ai voice campaign's results, then delete it.",
    schedule=[CAMPAIGNS_COMPLETED],
    start_date=pendulum.datetime(2025, 1, 6, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2},
    params={
        "campaign_ids": Param(
            [],
            type="array",
            items={"type": "string", "minLength": 1},
            description="Ids (cd-…) of completed voice campaigns to export and delete.",
        ),
    },
    tags=["kore", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def completed_campaigns(**context: Any) -> list[dict[str, str]]:
        """Each campaign the events and the conf name, once: its id and where its results go."""
        named = [
            ("params.campaign_ids", context["params"].get("campaign_ids", [])),
            *event_ids("campaign_ids", context.get("triggering_asset_events") or {}),
        ]
        try:
            ids = unique_ids(named)
        except InvalidCampaignArgumentError as error:
            raise AirflowFailException(f"Not exporting any campaign: {error}") from error
        return [
            {"campaign_id": campaign_id, "path": f"{RESULTS_URL}/{campaign_id}.csv"} for campaign_id in ids
        ]

    campaigns = completed_campaigns()
    export = ExportCampaignResultsOperator.partial(
        task_id="export_results", campaign_type="voice"
    ).expand_kwargs(campaigns)

    @task
    def exported_ids(exports: list[dict[str, str]]) -> list[str]:
        """The ids whose results are written: those the teardown may delete."""
        return [export["campaign_id"] for export in exports]

    remove = TeardownCampaignsOperator(
        task_id="delete_exported", campaign_ids=exported_ids(campaigns), campaign_type="voice"
    )
    export >> remove
