"""Twenty campaigns through all four operators, each step mapped over the campaigns.

Run by ``tests/operators/test_mapped_dag.py`` with ``dag.test()`` against the sandbox.
"""

from __future__ import annotations

from airflow.sdk import DAG

from airflow_campaign_provider.operators.campaign import (
    CreateSmsCampaignOperator,
    DeleteCampaignOperator,
    StartCampaignOperator,
    StopCampaignOperator,
)
from airflow_campaign_provider.sandbox.seed import WELCOME_BODY

CAMPAIGN_COUNT = 20

with DAG("kore_mapped_campaigns", schedule=None, catchup=False) as dag:
    created = CreateSmsCampaignOperator.partial(
        task_id="create",
        description="{{ dag.dag_id }}, run {{ run_id }}",
        contact_lists=["CL Only 2020 Dec 4"],
        template_name="Welcome",
        message=WELCOME_BODY,
        caller_id="+919561612345",
        calling_hours={
            "frequency": "DAILY",
            "timezone": "Asia/Kolkata",
            "days": [{"day": day, "start": "9:00 AM", "end": "6:00 PM"} for day in ("MO", "TU", "WE")],
        },
        dnc_list="testdnc",
        poll_interval=0.02,
    ).expand(name=[f"Mapped campaign {index:02d}" for index in range(CAMPAIGN_COUNT)])

    started = StartCampaignOperator.partial(
        task_id="start", wait_for_completion=True, poll_interval=0.02, timeout=60
    ).expand(campaign_id=created.output)
    stopped = StopCampaignOperator.partial(task_id="stop").expand(campaign_id=created.output)
    deleted = DeleteCampaignOperator.partial(task_id="delete").expand(campaign_id=created.output)

    started >> stopped >> deleted
