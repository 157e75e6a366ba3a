"""Voice reminder campaign: create it, start it, wait for it, export who answered, remove it.

Use this when a voice bot should call a contact list Kore.ai already holds and Airflow should
own the whole life of the campaign: a new Agentless campaign is created (the "Payment Reminder
Flow" experience flow talks), started, waited on in the triggerer (``deferrable=True``: no worker
slot is held while the calls go out), and its per-contact results (outcome and attempts of each
contact) are written to a CSV file through ``ObjectStoragePath``: a local folder here, an
``s3://`` or ``gs://`` URL just as well. The export's summary (counts by outcome, attempts) is
its XCom.

The delete is an Airflow teardown of the create: it runs whenever the create succeeded, even
when the wait or the export fails, and stops an ``Active`` campaign first, so no campaign is
left calling people. Every task is safe to retry: the create reuses its own same-named campaign,
the start never plays a campaign twice, the export rewrites its file, the delete succeeds on a
campaign already gone.

Connection: ``kore_campaign_default``. Run it against the local sandbox with
``.venv/bin/python -m airflow_campaign_provider.sandbox.run_dag kore_voice_reminder``.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_campaign_provider.operators.campaign import DeleteCampaignOperator, StartCampaignOperator
from airflow_campaign_provider.operators.results import ExportCampaignResultsOperator
from airflow_campaign_provider.operators.voice import CreateVoiceCampaignOperator

#: Seconds between two status reads; the tests and the sandbox runs set 1.
POLL_SECONDS = float(os.environ.get("KORE_EXAMPLE_POLL_SECONDS", "30"))
#: Where the results go: any ObjectStoragePath URL (file://, s3://, gs://…).
RESULTS_URL = os.environ.get("KORE_EXAMPLE_RESULTS_URL", "file:///tmp/kore-voice-results")

with DAG(
    dag_id="kore_voice_reminder",
    description="Call a contact list with a voice bot, export each contact's outcome, clean up.",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 6, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
    tags=["kore", "example", "voice"],
    doc_md=__doc__,
) as dag:
    create = CreateVoiceCampaignOperator(
        task_id="create_campaign",
        name="Payment reminder {{ dag_run.run_after | ts_nodash }}",
        description="Reminds customers of a payment due this week (Airflow run {{ run_id }}).",
        contact_lists=["CL Only 2020 Dec 4"],
        dnc_list="DNC CL Dec 4",
        caller_id="+14155550100",
        calling_hours={
            "frequency": "WEEKLY",
            "timezone": "America/New_York",
            "days": [
                {"day": day, "start": "9:00 AM", "end": "6:00 PM"} for day in ("MO", "TU", "WE", "TH", "FR")
            ],
        },
        dialing_mode="Agentless",
        experience_flow_name="Payment Reminder Flow",
        max_attempts_per_record=3,
        default_retry_period=10,
        max_ring_time=30,
        poll_interval=POLL_SECONDS,
    )
    start = StartCampaignOperator(
        task_id="start_and_wait",
        campaign_id=create.output,
        campaign_type="voice",
        wait_for_completion=True,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        timeout=12 * 3600,
    )
    export = ExportCampaignResultsOperator(
        task_id="export_results",
        campaign_id=create.output,
        campaign_type="voice",
        path=RESULTS_URL + "/{{ dag_run.run_after | ts_nodash }}.csv",
    )
    delete = DeleteCampaignOperator(
        task_id="delete_campaign", campaign_id=create.output, campaign_type="voice", stop_first=True
    ).as_teardown(setups=create)

    create >> start >> export >> delete
