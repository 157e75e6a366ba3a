"""An operator given another task's output runs after it, as with any Airflow operator: the
provider's operator metaclass must leave Airflow's XComArg dependencies in place."""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG

from airflow_campaign_provider.operators.campaign import StartCampaignOperator
from airflow_campaign_provider.operators.contact_list import CreateContactListOperator, UploadContactsOperator
from airflow_campaign_provider.operators.results import ExportCampaignResultsOperator


@pytest.mark.parametrize("mapped", [False, True])
def test_an_output_passed_as_an_argument_makes_its_task_upstream(mapped: bool) -> None:
    with DAG("deps", schedule=None, start_date=pendulum.datetime(2025, 1, 6, tz="UTC")):
        created = CreateContactListOperator(task_id="create", name="VIP", description="Customers.")
        phones = CreateContactListOperator(task_id="phones", name="Other", description="Customers.")
        if mapped:
            upload = UploadContactsOperator.partial(task_id="upload", contact_list_id=created.output).expand(
                contacts=[phones.output]
            )
        else:
            upload = UploadContactsOperator(
                task_id="upload", contact_list_id=created.output, contacts=phones.output
            )
        start = StartCampaignOperator(task_id="start", campaign_id=created.output)
        export = ExportCampaignResultsOperator(task_id="export", campaign_id=start.output, path="/tmp/x.csv")

    assert upload.upstream_task_ids == {"create", "phones"}
    assert start.upstream_task_ids == {"create"}
    assert export.upstream_task_ids == {"start"}
