"""Weekly SMS campaign: create it from a template, send it, wait for it, remove it.

Use this when a campaign goes out on a schedule, the same message to a contact list Kore.ai
already holds, and Airflow should own the whole life of it: every Monday morning a new
campaign is created from the approved template "Weekly welcome", started, waited on without
holding a worker slot (the sensor defers to the triggerer), and deleted.

The delete is an Airflow teardown of the create: it runs whenever the create succeeded, even
when the start or the wait fails (a campaign stopped in Kore, a wait that times out), so no
campaign is left behind in Kore. It stops an ``Active`` campaign before deleting it
(``stop_first``). As with any Airflow teardown, the run's state follows the work (a failed wait
fails the run even though the delete succeeded); a failed delete shows as a failed task.

Every task is safe to retry: the campaign name carries the run's date and the create reuses a
same-named campaign instead of making a second one, the start never plays a campaign twice, and
the stop and delete succeed on a campaign already stopped or gone. Clearing a whole finished run
is another matter: its campaign is deleted by then, so the rerun creates and sends a new one.

Connection: ``kore_campaign_default``. Run it against the local sandbox with ``make demo``.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

try:
    from airflow.sdk import CronTriggerTimetable
except ImportError:  # Airflow 3.1 keeps it in core only
    from airflow.timetables.trigger import CronTriggerTimetable

from airflow_campaign_provider.operators.campaign import (
    CreateSmsCampaignOperator,
    DeleteCampaignOperator,
    StartCampaignOperator,
)
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor

#: Seconds between two status reads. Campaigns run for minutes to hours, so 30 s is plenty;
#: the demo and the tests set KORE_EXAMPLE_POLL_SECONDS=1 so that a run takes seconds.
POLL_SECONDS = float(os.environ.get("KORE_EXAMPLE_POLL_SECONDS", "30"))

#: The body of the approved template, word for word: Kore.ai checks the two match.
WEEKLY_WELCOME = (
    "Welcome to Acme, <First Name>! Your account is ready. Reply HELP for help or STOP to opt out."
)

with DAG(
    dag_id="kore_campaign_weekly_lifecycle",
    description="Create, send, wait for and remove a weekly Kore.ai SMS campaign.",
    schedule=CronTriggerTimetable("0 9 * * MON", timezone="UTC"),  # Mondays at 9:00
    start_date=pendulum.datetime(2025, 1, 6, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
    tags=["kore", "example"],
    doc_md=__doc__,
) as dag:
    create = CreateSmsCampaignOperator(
        task_id="create_campaign",
        name="Weekly welcome {{ dag_run.run_after | ts_nodash }}",
        description="Weekly welcome SMS to last week's new customers (Airflow run {{ run_id }}).",
        contact_lists=["Weekly new customers"],
        template_name="Weekly welcome",
        message=WEEKLY_WELCOME,
        caller_id="+14155550100",
        calling_hours={
            "frequency": "WEEKLY",
            "timezone": "America/Los_Angeles",
            "days": [
                {"day": day, "start": "9:00 AM", "end": "6:00 PM"} for day in ("MO", "TU", "WE", "TH", "FR")
            ],
        },
        dnc_list="Do not text",
        poll_interval=POLL_SECONDS,
    )
    start = StartCampaignOperator(task_id="start_campaign", campaign_id=create.output)
    wait = CampaignStatusSensor(
        task_id="wait_for_completion",
        campaign_id=create.output,
        target_statuses=("Completed",),
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=timedelta(hours=12),
    )
    delete = DeleteCampaignOperator(
        task_id="delete_campaign", campaign_id=create.output, stop_first=True, missing_ok=True
    ).as_teardown(setups=create)

    create >> start >> wait >> delete
