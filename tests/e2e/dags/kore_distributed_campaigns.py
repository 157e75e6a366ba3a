"""N campaigns at once over Celery workers and triggerers, for the distributed budget test.

One campaign per contact list ``Distributed NN`` (the test seeds the sandbox with them), created
by mapped tasks, started, and waited on by the deferrable sensor. Every task retries quickly, so
a worker or a triggerer killed mid-run is survived through Airflow's own retries.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_campaign_provider.operators.campaign import CreateSmsCampaignOperator, StartCampaignOperator
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor

CAMPAIGNS = int(os.environ.get("KORE_E2E_CAMPAIGNS", "8"))
POLL_SECONDS = float(os.environ.get("KORE_EXAMPLE_POLL_SECONDS", "1"))
TEMPLATE_BODY = (
    "Hi <First Name>, as one of our <Segment> members you get early access to this season's "
    "offers. Reply STOP to opt out."
)

with DAG(
    dag_id="kore_distributed_campaigns",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 6, tz="UTC"),
    catchup=False,
    default_args={"retries": 4, "retry_delay": timedelta(seconds=3)},
    tags=["kore", "test"],
):
    create = CreateSmsCampaignOperator.partial(
        task_id="create_campaign",
        template_name="Segment offer",
        message=TEMPLATE_BODY,
        caller_id="+14155550100",
        calling_hours={
            "frequency": "DAILY",
            "timezone": "America/New_York",
            "days": [{"day": day, "start": "10:00 AM", "end": "7:00 PM"} for day in ("MO", "TU", "WE")],
        },
        poll_interval=POLL_SECONDS,
    ).expand_kwargs(
        [
            {
                "name": f"Distributed {n:02d}",
                "description": f"Campaign {n} of {CAMPAIGNS} sent at once.",
                "contact_lists": [f"Distributed {n:02d}"],
            }
            for n in range(1, CAMPAIGNS + 1)
        ]
    )
    start = StartCampaignOperator.partial(task_id="start_campaign").expand(campaign_id=create.output)
    wait = CampaignStatusSensor.partial(
        task_id="wait_for_completion",
        target_statuses=("Completed",),
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=timedelta(minutes=10),
    ).expand(campaign_id=create.output)
    start >> wait
