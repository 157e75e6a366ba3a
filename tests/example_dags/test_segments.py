"""The data-team pipeline example: the contact file's checks, and whole runs with ``dag.test()``
against the sandbox: each segment's list filled from the file, one SMS per valid number, reruns
adding nobody twice, and the teardown removing the campaigns, then the lists."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow.sdk import ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from airflow_campaign_provider.api import ApiRequest
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.sandbox import SandboxServer
from tests.example_dags.conftest import (
    EXAMPLES,
    SEED_FILE,
    kore_calls,
    load_example_module,
    task_states,
    xcom_result,
)

DAG_ID = "kore_campaign_segments"
CONTACTS = EXAMPLES / "data" / "contacts.csv"
#: The file's valid rows by segment, written out by hand from data/contacts.csv.
SEGMENTS = {
    "gold": ["+14155550201", "+14155550202", "+14155550203"],
    "silver": ["+14155550211", "+14155550212", "+14155550213", "+14155550214"],
    "bronze": ["+14155550221", "+14155550222", "+14155550223"],
}
#: On the example seed's "Do not text" list: valid in the file, but never texted.
DO_NOT_TEXT = {"+14155550213"}
#: The file's rejected rows, as the pipeline reports them (numbers as people write them are read,
#: national ones in the DAG's default region, US; one written twice differently is one number).
REJECTED = [
    "line 12: phone '415-555-023' is not a phone number in international format like +1 415 555 0100",
    "line 13: segment 'platinum' is not one of gold, silver, bronze",
    "line 14: phone +14155550202 is already on line 3",
    "line 15: first_name is empty",
]
WHEN = datetime(2025, 1, 6, 9, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def segments_module() -> Any:
    return load_example_module(DAG_ID)


def written(out_dir: Path) -> dict[str, list[str]]:
    """The phones of each per-segment file in ``out_dir``."""
    return {
        path.stem: [row["phone"] for row in csv.DictReader(path.open())]
        for path in sorted(out_dir.glob("*.csv"))
    }


def test_the_shipped_file_splits_into_one_file_per_segment_and_reports_every_bad_row(
    segments_module: Any, tmp_path: Path
) -> None:
    counts, problems = segments_module.split_contact_file(
        CONTACTS, ObjectStoragePath(f"file://{tmp_path}"), "US"
    )

    assert problems == REJECTED
    assert counts == {segment: len(phones) for segment, phones in SEGMENTS.items()}
    assert written(tmp_path) == SEGMENTS


def test_the_example_seed_holds_the_template_but_no_segment_list(segments_module: Any) -> None:
    """The lists are made by each run from the file; the seed must not hold stale copies."""
    import json

    seed = json.loads(SEED_FILE.read_text(encoding="utf-8"))

    assert seed["templates"]["Segment offer"]["body"] == segments_module.SEGMENT_OFFER
    assert not [name for name in seed["contact_lists"] if name.startswith(("Season", "Segment"))]


def test_a_row_with_several_problems_names_them_all(segments_module: Any, tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("first_name,segment,phone\n,vip,0044 20 7946 0000\nAda,gold,+14155550201\n")

    counts, problems = segments_module.split_contact_file(
        contacts, ObjectStoragePath(f"file://{tmp_path}/out")
    )

    assert counts == {"gold": 1}
    assert problems == [
        "line 2: phone '0044 20 7946 0000' is not a phone number in international format like "
        "+1 415 555 0100; a national number needs default_region (e.g. 'US'); "
        "segment 'vip' is not one of gold, silver, bronze; first_name is empty"
    ]


def test_a_file_without_the_columns_is_refused_naming_them(segments_module: Any, tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("msisdn,name\n+14155550201,Ada\n")

    with pytest.raises(
        segments_module.ContactFileError, match=r"missing column\(s\) phone, first_name, segment"
    ):
        segments_module.split_contact_file(contacts, ObjectStoragePath(f"file://{tmp_path}/out"))


def test_list_and_campaign_names_fit_kore_and_differ_per_segment(
    segments_module: Any, tmp_path: Path
) -> None:
    plan = segments_module.segment_plan(
        {"gold": 3, "silver": 4}, ObjectStoragePath(f"file://{tmp_path}"), "20250106T090000"
    )

    lists = [segments_module.list_arguments(segment) for segment in plan]
    campaigns = [segments_module.campaign_arguments(segment) for segment in plan]

    assert [c["contact_lists"] for c in campaigns] == [[x["name"]] for x in lists]
    names = [x["name"] for x in lists] + [c["name"] for c in campaigns]
    assert len(set(names)) == 4
    assert all(len(name) <= 48 for name in names)


@pytest.fixture
def staging(tmp_path: Path) -> dict[str, str]:
    return {"staging_path": f"file://{tmp_path}/staging"}


def texts_by_phone(server: SandboxServer) -> Counter[str]:
    return Counter(message["phone"] for message in server.admin.messages())


def assert_each_valid_number_texted_once(server: SandboxServer) -> None:
    valid = {phone for phones in SEGMENTS.values() for phone in phones}
    assert texts_by_phone(server) == Counter(valid - DO_NOT_TEXT)  # once each; nobody outside the file


def test_pipeline_fills_a_list_per_segment_texts_each_valid_number_once_and_hands_everything_to_the_teardown(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer, staging: dict[str, str]
) -> None:
    dag_run = example_dag(DAG_ID).test(run_conf=staging)

    assert dag_run.state == "success"
    assert task_states(dag_run) == {
        "plan_segments": ["success"],
        "create_contact_list": ["success"] * 3,
        "upload_contacts": ["success"] * 3,
        "create_campaign": ["success"] * 3,
        "start_campaign": ["success"] * 3,
        "wait_for_completion": ["success"] * 3,
        "export_results": ["success"] * 3,
        "publish_finished": ["success"],
    }
    admin = examples_sandbox.admin
    lists = admin.resources()["contact_lists"]
    season = {name.split()[1]: phones for name, phones in lists.items() if name.startswith("Season ")}
    assert season == SEGMENTS  # each list holds exactly its segment's valid numbers, each once
    assert_each_valid_number_texted_once(examples_sandbox)
    uploads = [xcom_result(dag_run, "upload_contacts", i) for i in range(3)]
    assert sorted(u["sent"] for u in uploads) == sorted(len(p) for p in SEGMENTS.values())
    live = admin.campaigns()["campaigns"]
    assert sorted(c["status"] for c in live) == ["Completed"] * 3

    published = xcom_result(dag_run, "publish_finished")
    assert sorted(published) == sorted(c["id"] for c in live)
    (event_extra,) = asset_event_extras(dag_run)
    list_ids = [xcom_result(dag_run, "create_contact_list", i) for i in range(3)]
    assert event_extra == {"campaign_ids": published, "contact_list_ids": list_ids}

    teardown_run = example_dag("kore_campaign_teardown").test(run_conf=event_extra)

    assert teardown_run.state == "success"
    assert admin.campaigns()["liveCount"] == 0
    assert not [name for name in admin.resources()["contact_lists"] if name.startswith("Season ")]
    assert sorted(xcom_result(teardown_run, "report")["deleted"]) == sorted(published)


def test_rerunning_a_failed_upload_adds_nobody_twice(
    example_dag: Callable[[str], Any],
    examples_sandbox: SandboxServer,
    staging: dict[str, str],
) -> None:
    real_send = CampaignHook._send
    adds: list[str] = []

    def crash_after_adding(hook: CampaignHook, request: ApiRequest) -> requests.Response:
        response = real_send(hook, request)
        if request.path.endswith("/addContacts"):
            adds.append(request.json_body["contact_list_name"])
            raise AirflowFailException("the worker died after Kore accepted the batch")
        return response

    dag = example_dag(DAG_ID)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CampaignHook, "_send", crash_after_adding)
        failed = dag.test(run_conf=staging, logical_date=WHEN, run_after=WHEN)

    assert failed.state == "failed"
    assert task_states(failed)["upload_contacts"] == ["failed"] * 3
    assert len(adds) == 3
    assert examples_sandbox.admin.messages() == []
    examples_sandbox.admin.clear_requests()

    rerun = dag.test(run_conf=staging, logical_date=WHEN, run_after=WHEN)

    assert rerun.state == "success"
    lists = examples_sandbox.admin.resources()["contact_lists"]
    season = {name.split()[1]: phones for name, phones in lists.items() if name.startswith("Season ")}
    assert season == SEGMENTS  # three lists, as before, each number in them once
    assert [xcom_result(rerun, "upload_contacts", i)["sent"] for i in range(3)] == [0, 0, 0]
    assert not [r for r in examples_sandbox.admin.requests() if r["path"].endswith("/addContacts")]
    assert_each_valid_number_texted_once(examples_sandbox)


def asset_event_extras(dag_run: Any) -> list[dict[str, Any]]:
    """The extras of the ``kore_campaigns_finished`` events a run produced."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "kore_campaigns_finished", AssetEvent.source_run_id == dag_run.run_id)
        ).all()
        return [dict(event.extra) for event in events]


def test_pipeline_sends_nothing_when_the_file_has_too_many_bad_rows(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer, staging: dict[str, str]
) -> None:
    dag_run = example_dag(DAG_ID).test(run_conf={**staging, "max_invalid_rows": len(REJECTED) - 1})

    assert dag_run.state == "failed"
    states = task_states(dag_run)
    assert states["plan_segments"] == ["failed"]
    assert states["create_contact_list"] == ["upstream_failed"]
    assert states["create_campaign"] == ["upstream_failed"]
    assert kore_calls(examples_sandbox) == []
    assert examples_sandbox.admin.messages() == []
