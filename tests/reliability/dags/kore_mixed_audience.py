"""Issue 19's done-when run: a CSV of numbers as people write them, uploaded once into one list,
texted by an SMS campaign and called by a voice campaign, waited on, results exported.

The list keeps duplicates (the worst case: a batch sent twice is two texts), and every task may
be retried: ``tests/reliability/test_mixed_audience.py`` fails the upload after Kore took its
batch and lets Airflow retry it. Settings come from the environment the test sets.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_campaign_provider.operators.campaign import CreateSmsCampaignOperator, StartCampaignOperator
from airflow_campaign_provider.operators.contact_list import CreateContactListOperator, UploadContactsOperator
from airflow_campaign_provider.operators.results import ExportCampaignResultsOperator
from airflow_campaign_provider.operators.voice import CreateVoiceCampaignOperator

LIST_NAME = "Mixed audience"
POLL = float(os.environ.get("KORE_MIXED_POLL_SECONDS", "1"))
HOURS = {
    "frequency": "WEEKLY",
    "timezone": "America/New_York",
    "days": [{"day": day, "start": "9:00 AM", "end": "6:00 PM"} for day in ("MO", "TU", "WE", "TH", "FR")],
}

with DAG(
    dag_id="kore_mixed_audience",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 6, tz="UTC"),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
):
    create_list = CreateContactListOperator(
        task_id="create_list",
        name=LIST_NAME,
        description="Numbers as people write them",
        allow_duplicates=True,
    )
    upload = UploadContactsOperator(
        task_id="upload",
        contact_list_id=create_list.output,
        contacts=os.environ.get("KORE_MIXED_CONTACTS", "contacts.csv"),
        default_region="US",
        import_timeout=float(os.environ.get("KORE_MIXED_IMPORT_TIMEOUT", "600")),
        poll_interval=0.05,
        settle_seconds=float(os.environ.get("KORE_MIXED_SETTLE_SECONDS", "30")),
    )
    sms = CreateSmsCampaignOperator(
        task_id="create_sms",
        name="Mixed audience SMS",
        description="Texts the mixed audience",
        contact_lists=[LIST_NAME],
        template_name="Welcome",
        message=os.environ.get("KORE_MIXED_TEMPLATE", ""),
        caller_id="+14155550100",
        calling_hours=HOURS,
        poll_interval=POLL,
    )
    voice = CreateVoiceCampaignOperator(
        task_id="create_voice",
        name="Mixed audience calls",
        description="Calls the mixed audience",
        contact_lists=[LIST_NAME],
        dnc_list="testdnc",
        caller_id="+14155550100",
        calling_hours=HOURS,
        dialing_mode="Agentless",
        experience_flow_name="Reminder Flow",
        max_attempts_per_record=3,
        default_retry_period=10,
        max_ring_time=30,
        poll_interval=POLL,
    )
    start_sms = StartCampaignOperator(
        task_id="start_sms", campaign_id=sms.output, wait_for_completion=True, poll_interval=POLL
    )
    start_voice = StartCampaignOperator(
        task_id="start_voice",
        campaign_id=voice.output,
        campaign_type="voice",
        wait_for_completion=True,
        poll_interval=POLL,
    )
    export = ExportCampaignResultsOperator(
        task_id="export",
        campaign_id=voice.output,
        campaign_type="voice",
        path=os.environ.get("KORE_MIXED_RESULTS", "/tmp/kore-mixed-results.csv"),
    )
    upload >> [sms, voice]
    sms >> start_sms
    voice >> start_voice >> export
