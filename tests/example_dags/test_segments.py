"""The data-team pipeline example: the contact file's checks, and whole runs with ``dag.test()``
against the sandbox, handing their campaigns to the teardown example through the asset."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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
#: Who each segment's campaign must text: the file's valid rows, less the "Do not text" list
#: (+14155550213, silver), written out by hand from data/contacts.csv.
DUE = {
    "Segment gold": ["+14155550201", "+14155550202", "+14155550203"],
    "Segment silver": ["+14155550211", "+14155550212", "+14155550214"],
    "Segment bronze": ["+14155550221", "+14155550222", "+14155550223"],
}
#: The file's rejected rows, as the pipeline reports them.
REJECTED = [
    "line 12: phone '415-555-0230' is not an E.164 number like +14155550100",
    "line 13: segment 'platinum' is not one of gold, silver, bronze",
    "line 14: phone +14155550202 is already on line 3",
    "line 15: first_name is empty",
]


@pytest.fixture(scope="module")
def segments_module() -> Any:
    return load_example_module(DAG_ID)


def test_the_shipped_file_splits_into_three_segments_and_reports_every_bad_row(segments_module: Any) -> None:
    segments, problems = segments_module.read_segments(CONTACTS)

    assert problems == REJECTED
    assert segments == {
        "gold": ["+14155550201", "+14155550202", "+14155550203"],
        "silver": ["+14155550211", "+14155550212", "+14155550213", "+14155550214"],
        "bronze": ["+14155550221", "+14155550222", "+14155550223"],
    }


def test_the_sandbox_seed_holds_the_lists_the_file_describes(segments_module: Any) -> None:
    """The example seed's segment lists must match the file, or the demo would text other people."""
    segments, _ = segments_module.read_segments(CONTACTS)
    seed = json.loads(SEED_FILE.read_text(encoding="utf-8"))

    for segment, phones in segments.items():
        assert seed["contact_lists"][segments_module.SEGMENT_LISTS[segment]] == phones
    assert seed["templates"]["Segment offer"]["body"] == segments_module.SEGMENT_OFFER


def test_a_row_with_several_problems_names_them_all(segments_module: Any, tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("first_name,segment,phone\n,vip,0044 20 7946 0000\nAda,gold,+14155550201\n")

    segments, problems = segments_module.read_segments(contacts)

    assert segments == {"gold": ["+14155550201"]}
    assert problems == [
        "line 2: phone '0044 20 7946 0000' is not an E.164 number like +14155550100; "
        "segment 'vip' is not one of gold, silver, bronze; first_name is empty"
    ]


def test_a_file_without_the_columns_is_refused_naming_them(segments_module: Any, tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("msisdn,name\n+14155550201,Ada\n")

    with pytest.raises(
        segments_module.ContactFileError, match=r"missing column\(s\) phone, first_name, segment"
    ):
        segments_module.read_segments(contacts)


def test_campaign_names_fit_kore_and_differ_per_segment(segments_module: Any) -> None:
    segments, _ = segments_module.read_segments(CONTACTS)

    requests = segments_module.campaign_requests(segments, "20250106T090000")

    assert [r["contact_lists"] for r in requests] == [
        ["Segment gold"],
        ["Segment silver"],
        ["Segment bronze"],
    ]
    assert len({r["name"] for r in requests}) == 3
    assert all(len(r["name"]) <= 48 for r in requests)


def test_pipeline_texts_each_segment_once_and_hands_its_campaigns_to_the_teardown(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer
) -> None:
    dag_run = example_dag(DAG_ID).test()

    assert dag_run.state == "success"
    assert task_states(dag_run) == {
        "plan_campaigns": ["success"],
        "create_campaign": ["success"] * 3,
        "start_campaign": ["success"] * 3,
        "wait_for_completion": ["success"] * 3,
        "publish_finished": ["success"],
    }
    admin = examples_sandbox.admin
    creates = [
        r["body"] for r in admin.requests() if r["method"] == "POST" and r["path"].endswith("/campaign")
    ]
    assert sorted(body["contactLists"] for body in creates) == sorted(
        [name] for name in DUE
    )  # mapped: any order
    sent: dict[str, list[str]] = defaultdict(list)
    for message in admin.messages():
        sent[message["contactList"]].append(message["phone"])
    assert {name: sorted(phones) for name, phones in sent.items()} == DUE  # each due contact exactly once
    live = admin.campaigns()["campaigns"]
    assert sorted(c["status"] for c in live) == ["Completed"] * 3

    published = xcom_result(dag_run, "publish_finished")
    assert sorted(published) == sorted(c["id"] for c in live)
    (event_extra,) = asset_event_extras(dag_run)
    assert event_extra == {"campaign_ids": published}

    teardown_run = example_dag("kore_campaign_teardown").test(run_conf=event_extra)

    assert teardown_run.state == "success"
    assert admin.campaigns()["liveCount"] == 0
    assert sorted(xcom_result(teardown_run, "report")["deleted"]) == sorted(published)


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
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer
) -> None:
    dag_run = example_dag(DAG_ID).test(run_conf={"max_invalid_rows": len(REJECTED) - 1})

    assert dag_run.state == "failed"
    states = task_states(dag_run)
    assert states["plan_campaigns"] == ["failed"]
    assert states["create_campaign"] == ["upstream_failed"]
    assert kore_calls(examples_sandbox) == []
    assert examples_sandbox.admin.messages() == []
