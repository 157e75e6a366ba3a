"""A data team's SMS campaign: a CSV file becomes a Kore.ai contact list, the list gets a
campaign, the campaign is sent and waited for, its results are written to a file, and the
campaign and the list are removed.

The documentation's data-team guide shows this file, and the test suite runs it against the
sandbox as it is, so what the guide shows is what works.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_campaign_provider.operators.campaign import (
    CreateSmsCampaignOperator,
    DeleteCampaignOperator,
    StartCampaignOperator,
)
from airflow_campaign_provider.operators.contact_list import (
    CreateContactListOperator,
    DeleteContactListOperator,
    UploadContactsOperator,
)
from airflow_campaign_provider.operators.results import ExportCampaignResultsOperator
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor

#: Seconds between two status reads: 30 s suits real campaigns; run_dag sets 1.
POLL_SECONDS = float(os.environ.get("KORE_EXAMPLE_POLL_SECONDS", "30"))
#: The contact file: a CSV with a ``phone`` column (E.164 numbers); any ObjectStoragePath works.
CONTACTS = str(Path(__file__).parent / "data" / "customers.csv")
#: Where the results go: any ObjectStoragePath URL (file://, s3://, gs://…).
RESULTS_URL = os.environ.get("KORE_EXAMPLE_RESULTS_URL", "file:///tmp/kore-data-team-results")
#: The approved template's body, word for word: Kore.ai checks that the two match.
WELCOME = (
    "Greetings, <First Name>! We're thrilled to have you join us. Access our top three beginner's "
    "tips by clicking on this link: https://yourwebsite.com/tips. If you have any inquiries, "
    "don't hesitate to send us a reply right here."
)
#: One list per run: campaigns name their lists, so the campaign below uses this same name.
LIST_NAME = "Data team {{ dag_run.run_after | ts_nodash }}"

with DAG(
    dag_id="kore_data_team",
    description="CSV -> contact list -> SMS campaign -> wait -> results -> clean up.",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 6, tz="UTC"),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    tags=["kore", "example"],
) as dag:
    create_list = CreateContactListOperator(
        task_id="create_list", name=LIST_NAME, description="This run's customers from the CSV export"
    )  # returns the list's id, cl-…
    upload = UploadContactsOperator(
        task_id="upload_contacts",
        contact_list_id=create_list.output,
        contacts=CONTACTS,
        phone_column="phone",
        max_invalid_rows=0,  # a bad row fails the task before anything is sent
        poll_interval=POLL_SECONDS,
    )
    create_campaign = CreateSmsCampaignOperator(
        task_id="create_campaign",
        name="Welcome {{ dag_run.run_after | ts_nodash }}",
        description="Welcome texts to this run's customers",
        contact_lists=[LIST_NAME],  # names, not ids: the same name the list was created with
        template_name="Welcome",
        message=WELCOME,
        caller_id="+14155550100",
        calling_hours={  # required: Kore sends only inside these hours, in this time zone
            "frequency": "WEEKLY",
            "timezone": "America/New_York",
            "days": [
                {"day": day, "start": "12:00 AM", "end": "11:59 PM"}
                for day in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
            ],
        },
        dnc_list="Do not text",
        poll_interval=POLL_SECONDS,
    )
    start = StartCampaignOperator(task_id="start_campaign", campaign_id=create_campaign.output)
    wait = CampaignStatusSensor(
        task_id="wait_for_completion",
        campaign_id=create_campaign.output,
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=timedelta(hours=12),
    )
    results = ExportCampaignResultsOperator(
        task_id="export_results",
        campaign_id=create_campaign.output,
        path=RESULTS_URL + "/{{ dag_run.run_after | ts_nodash }}.csv",
    )
    delete_campaign = DeleteCampaignOperator(
        task_id="delete_campaign", campaign_id=create_campaign.output, stop_first=True, missing_ok=True
    ).as_teardown(setups=create_campaign)
    delete_list = DeleteContactListOperator(
        task_id="delete_list", contact_list_id=create_list.output, missing_ok=True
    ).as_teardown(setups=create_list)

    create_list >> upload >> create_campaign >> start >> wait >> results >> delete_campaign >> delete_list
