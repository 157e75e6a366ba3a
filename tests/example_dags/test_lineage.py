"""The data-team example run with the OpenLineage provider and its file transport: each Kore task's
event names the datasets it read and wrote, with their facets, so the chain segment file →
contact list → campaign → results file reaches a governance tool."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_campaign_provider.assets import KoreResource, kore_host
from airflow_campaign_provider.sandbox import SandboxServer
from tests.example_dags.test_segments import SEGMENTS

pytest.importorskip("airflow.providers.openlineage")

DAG_ID = "kore_campaign_segments"


def _clear_openlineage_settings() -> None:
    """The provider caches each setting; a test's own must be read afresh, and dropped after."""
    from airflow.providers.openlineage import conf

    for name in dir(conf):
        cache_clear = getattr(getattr(conf, name), "cache_clear", None)
        if callable(cache_clear):
            cache_clear()


@pytest.fixture
def lineage_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """OpenLineage on, every event appended to one JSON-lines file, emitted in a thread."""
    from airflow.providers.openlineage.plugins.listener import OpenLineageListener
    from airflow.sdk.listener import get_listener_manager

    # Airflow builds its listeners once a process, from the plugins as then configured: build them
    # before turning OpenLineage on, so the only OpenLineage listener is this test's.
    manager = get_listener_manager()
    path = tmp_path / "openlineage.jsonl"
    transport = {"type": "file", "log_file_path": str(path), "append": True}
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps(transport))
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__DISABLED", "False")
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD", "True")
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__NAMESPACE", "kore-tests")
    _clear_openlineage_settings()
    listener = OpenLineageListener()
    assert not [p for p in manager.pm.get_plugins() if isinstance(p, OpenLineageListener)]
    manager.add_listener(listener)
    try:
        yield path
    finally:
        manager.pm.unregister(listener)
        monkeypatch.undo()
        _clear_openlineage_settings()


def task_events(path: Path, event_type: str) -> dict[str, list[dict[str, Any]]]:
    """The run events of each task (by task id, map indexes in any order) of one type."""
    events: dict[str, list[dict[str, Any]]] = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        job = event.get("job", {}).get("name", "")
        if event.get("eventType") == event_type and job.startswith(f"{DAG_ID}."):
            events.setdefault(job.removeprefix(f"{DAG_ID}."), []).append(event)
    return events


def kore_dataset(server: SandboxServer, kind: str, name: str) -> tuple[str, str]:
    from airflow_campaign_provider.hooks.campaign import CampaignHook

    stream_id = CampaignHook().settings.stream_id
    resource = KoreResource.of(kind, name, stream_id=stream_id, host=kore_host(server.url))
    return resource.openlineage_namespace, resource.openlineage_name


def by_name(datasets: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["namespace"], d["name"]): d for d in datasets}


def pii_column(dataset: dict[str, Any]) -> list[str]:
    return [tag["field"] for tag in dataset["facets"]["tags"]["tags"] if tag["key"] == "pii"]


def test_each_kore_task_reports_what_it_read_and_wrote_with_its_facets(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer, tmp_path: Path, lineage_file: Path
) -> None:
    staging = tmp_path / "staging"
    dag_run = example_dag(DAG_ID).test(run_conf={"staging_path": f"file://{staging}"})

    assert dag_run.state == "success"
    complete = task_events(lineage_file, "COMPLETE")
    stamp = dag_run.run_after.strftime("%Y%m%dT%H%M%S")
    run_dir = next(staging.iterdir())

    lists = by_name([d for e in complete["create_contact_list"] for d in e["outputs"]])
    assert set(lists) == {
        kore_dataset(examples_sandbox, "contact-list", f"Season {s} {stamp}") for s in SEGMENTS
    }

    uploads = complete["upload_contacts"]
    assert len(uploads) == len(SEGMENTS)
    for segment, phones in SEGMENTS.items():
        contact_list = kore_dataset(examples_sandbox, "contact-list", f"Season {segment} {stamp}")
        (event,) = [e for e in uploads if by_name(e["outputs"]).get(contact_list)]
        (source,) = event["inputs"]
        assert (source["namespace"], source["name"]) == ("file", str(run_dir / f"{segment}.csv"))
        assert pii_column(source) == ["phone"]
        assert source["facets"]["schema"]["fields"][0]["name"] == "phone"
        assert source["inputFacets"]["dataQualityMetrics"]["rowCount"] == len(phones)
        written = by_name(event["outputs"])[contact_list]
        assert written["facets"]["koreContactList"]["size"] == len(phones)
        assert written["outputFacets"]["outputStatistics"]["rowCount"] == len(phones)
        assert pii_column(written) == ["phone"]

    for segment in SEGMENTS:
        contact_list = kore_dataset(examples_sandbox, "contact-list", f"Season {segment} {stamp}")
        campaign = kore_dataset(examples_sandbox, "campaign", f"Season offer {segment} {stamp}")
        (create,) = [e for e in complete["create_campaign"] if by_name(e["outputs"]).get(campaign)]
        assert list(by_name(create["inputs"])) == [contact_list]
        facet = by_name(create["outputs"])[campaign]["facets"]["koreCampaign"]
        assert (facet["campaignType"], facet["status"]) == ("sms", "Ready")
        assert facet["campaignId"].startswith("cd-")

        (start,) = [e for e in complete["start_campaign"] if by_name(e["outputs"]).get(campaign)]
        assert by_name(start["outputs"])[campaign]["facets"]["koreCampaign"]["status"] == "Active"

        (export,) = [e for e in complete["export_results"] if by_name(e["inputs"]).get(campaign)]
        (results,) = export["outputs"]
        assert (results["namespace"], results["name"]) == ("file", str(run_dir / f"{segment}-results.csv"))
        assert results["outputFacets"]["outputStatistics"]["rowCount"] == 1  # an SMS campaign's totals


def test_a_failed_upload_reports_its_source_and_the_error(
    example_dag: Callable[[str], Any],
    examples_sandbox: SandboxServer,
    tmp_path: Path,
    lineage_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_campaign_provider.hooks.campaign import CampaignHook

    def refuse(*args: Any, **kwargs: Any) -> Any:  # final: the example's retry would wait 2 minutes
        raise AirflowFailException("Kore.ai is down for maintenance")

    monkeypatch.setattr(CampaignHook, "upload_contacts_once", refuse)
    staging = tmp_path / "staging"
    dag_run = example_dag(DAG_ID).test(run_conf={"staging_path": f"file://{staging}"})

    assert dag_run.state == "failed"
    failed = task_events(lineage_file, "FAIL")["upload_contacts"]
    assert {e["run"]["facets"]["errorMessage"]["message"] for e in failed} == {
        "Kore.ai is down for maintenance"
    }
    run_dir = next(staging.iterdir())
    sources = {d["name"] for e in failed for d in e["inputs"]}
    assert sources == {str(run_dir / f"{segment}.csv") for segment in SEGMENTS}


SQL_DAG = """
import pendulum
from airflow.providers.common.compat.openlineage.facet import Dataset
from airflow.providers.openlineage.extractors import OperatorLineage
from airflow.sdk import DAG, BaseOperator

from airflow_campaign_provider.operators.contact_list import CreateContactListOperator, UploadContactsOperator

TABLE = Dataset(namespace="postgres://warehouse:5432", name="crm.public.customers")


class CustomerQuery(BaseOperator):
    \"\"\"Stands for a SQL operator: its rows in XCom, its query's lineage reported on start.\"\"\"

    def execute(self, context):
        return ["+14155550401", "+14155550402"]

    def get_openlineage_facets_on_start(self):
        return OperatorLineage(inputs=[TABLE])


with DAG("contacts_from_sql", schedule=None, start_date=pendulum.datetime(2025, 1, 6, tz="UTC")):
    phones = CustomerQuery(task_id="query_customers")
    created = CreateContactListOperator(
        task_id="create_list", name="Warehouse VIP", description="Read from the warehouse."
    )
    UploadContactsOperator(
        task_id="upload_contacts",
        contact_list_id=created.output,
        contacts=phones.output,
        import_timeout=60,
        poll_interval=0.2,
    )
"""


def test_contacts_read_by_a_sql_task_name_its_table_as_their_source(
    metadata_db: None,
    kore_sandbox: SandboxServer,
    dags_folder: Callable[[Path], None],
    tmp_path: Path,
    lineage_file: Path,
) -> None:
    """The upload asks the task whose XCom its contacts were for the lineage of its query, as
    SQL operators report it before they run: the table read becomes the upload's input."""
    from tests.airflow_names import DagBag

    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "contacts_from_sql.py").write_text(SQL_DAG)
    dags_folder(folder)
    bag = DagBag(dag_folder=folder)
    assert bag.import_errors == {}

    assert bag.get_dag("contacts_from_sql").test().state == "success"

    events = [json.loads(line) for line in lineage_file.read_text().splitlines()]
    (upload,) = [
        event
        for event in events
        if event["job"]["name"] == "contacts_from_sql.upload_contacts" and event["eventType"] == "COMPLETE"
    ]
    (source,) = upload["inputs"]
    assert (source["namespace"], source["name"]) == ("postgres://warehouse:5432", "crm.public.customers")
    assert pii_column(source) == ["phone"]
    (written,) = upload["outputs"]
    assert written["name"].endswith("/contact-list/warehouse vip")
    assert written["facets"]["koreContactList"]["size"] == 2
