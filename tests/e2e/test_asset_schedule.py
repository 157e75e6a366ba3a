"""Data-aware scheduling on a Kore contact list, under a real Airflow (api-server, scheduler,
dag-processor; LocalExecutor, SQLite) against the sandbox.

A DAG scheduled on ``kore_contact_list_asset("VIP customers", ...)`` must run once the upload
task has refreshed that list, and not when another list is refreshed, nor when the list is only
created: the scheduler sees the upload's asset event, published through the operator's alias.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from airflow_campaign_provider.assets import KoreResource, kore_host
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.config import SandboxConfig
from tests.e2e.processes import RealAirflow, local_airflow

pytestmark = pytest.mark.e2e

CONSUMER = "on_vip_refreshed"
COMPONENTS = ("api-server", "scheduler", "dag-processor")
STARTUP_SECONDS = 240.0
RUN_SECONDS = 300.0
#: Long enough for several scheduler loops (one a second when idle) after the other list's event.
QUIET_SECONDS = 15.0

DAGS = """
import pendulum
from airflow.sdk import DAG, task

from airflow_campaign_provider.assets import kore_contact_list_asset
from airflow_campaign_provider.operators.contact_list import CreateContactListOperator, UploadContactsOperator

START = pendulum.datetime(2025, 1, 6, tz="UTC")
VIP = kore_contact_list_asset("VIP customers", stream_id={stream_id!r}, host={host!r})

for dag_id, list_name, phones in (
    ("refresh_vip", "VIP customers", ["+14155550301", "+14155550302"]),
    ("refresh_other", "Other customers", ["+14155550311"]),
):
    with DAG(dag_id, schedule=None, start_date=START, catchup=False):
        created = CreateContactListOperator(
            task_id="create_list", name=list_name, description="Customers to text."
        )
        UploadContactsOperator(
            task_id="upload_contacts",
            contact_list_id=created.output,
            contacts=phones,
            poll_interval=0.2,
            import_timeout=60,
        )

with DAG("{consumer}", schedule=[VIP], start_date=START, catchup=False):

    @task
    def react(**context):
        (event,) = context["triggering_asset_events"][VIP]
        return event.extra

    react()
"""


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(
        replace(SandboxConfig(rate_limit_per_window=None), client_secret=f"asset-e2e-{secrets.token_hex(16)}")
    ) as server:
        yield server


@pytest.fixture
def real_airflow(tmp_path: Path, sandbox: SandboxServer) -> Iterator[RealAirflow]:
    stream_id = json.loads(sandbox.connection_json())["extra"]["stream_id"]
    dags = tmp_path / "dags"
    dags.mkdir()
    source = DAGS.format(stream_id=stream_id, host=kore_host(sandbox.url), consumer=CONSUMER)
    (dags / "kore_asset_dags.py").write_text(source)
    # The scheduler creates asset-triggered runs only when it creates runs of schedules at all.
    with local_airflow(
        tmp_path, dags, sandbox.connection_json(), COMPONENTS, AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="True"
    ) as airflow:
        yield airflow


def consumer_runs(airflow: RealAirflow) -> list[tuple[str, str, str]]:
    return airflow.query("SELECT run_type, state, queued_at FROM dag_run WHERE dag_id = ?", CONSUMER)


def upload_events(airflow: RealAirflow) -> list[tuple[str, str]]:
    """The asset events of uploads: the asset's URI and the event's extra."""
    return airflow.query(
        "SELECT asset.uri, asset_event.extra FROM asset_event JOIN asset ON asset.id = asset_event.asset_id "
        "WHERE asset_event.source_task_id = 'upload_contacts' ORDER BY asset_event.id"
    )


@pytest.mark.timeout(600)
def test_a_dag_scheduled_on_a_contact_list_runs_after_its_upload_and_only_then(
    real_airflow: RealAirflow, sandbox: SandboxServer
) -> None:
    airflow = real_airflow

    def parsed() -> bool | None:
        errors = airflow.query("SELECT stacktrace FROM import_error")
        assert errors == [], errors
        return len(airflow.query("SELECT dag_id FROM dag WHERE is_paused = 0")) == 3 or None

    airflow.wait_for("the dag-processor to parse the three DAGs", parsed, STARTUP_SECONDS)
    stream_id = json.loads(sandbox.connection_json())["extra"]["stream_id"]
    vip = KoreResource.of("contact-list", "VIP customers", stream_id=stream_id, host=kore_host(sandbox.url))

    airflow.cli("dags", "trigger", "refresh_other")
    assert airflow.wait_for_run_end("refresh_other", RUN_SECONDS) == "success", airflow.diagnosis()
    airflow.wait_for("the other list's asset event", lambda: upload_events(airflow) or None, RUN_SECONDS)
    time.sleep(QUIET_SECONDS)
    assert consumer_runs(airflow) == []  # another list was refreshed: nothing to do
    assert airflow.query("SELECT * FROM asset_dag_run_queue") == []

    airflow.cli("dags", "trigger", "refresh_vip")
    assert airflow.wait_for_run_end("refresh_vip", RUN_SECONDS) == "success", airflow.diagnosis()
    assert airflow.wait_for_run_end(CONSUMER, RUN_SECONDS) == "success", airflow.diagnosis()

    ((run_type, _, queued_at),) = consumer_runs(airflow)
    assert run_type == "asset_triggered"
    ((upload_end,),) = airflow.query(
        "SELECT end_date FROM task_instance WHERE dag_id = 'refresh_vip' AND task_id = 'upload_contacts'"
    )
    ((create_end,),) = airflow.query(
        "SELECT end_date FROM task_instance WHERE dag_id = 'refresh_vip' AND task_id = 'create_list'"
    )
    assert create_end < upload_end < queued_at  # the upload's event, not the create, started it
    uri, extra = upload_events(airflow)[-1]
    assert uri == vip.uri
    event = json.loads(extra)
    assert (event["operation"], event["sent"], event["total_in_list"]) == ("upload", 2, 2)
    assert event["contact_list_id"].startswith("cl-")
    assert [uri for uri, _ in upload_events(airflow)] == [
        KoreResource.of(
            "contact-list", "Other customers", stream_id=stream_id, host=kore_host(sandbox.url)
        ).uri,
        vip.uri,
    ]
