"""The event-triggered teardown example: each named campaign stopped if running and deleted,
exactly once, whatever state it is in, however many are named; reruns harmless; bad names refused
before any call."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.run_dag import request_campaign_id, request_kind
from tests.example_dags.conftest import kore_calls, load_example_module, task_states, xcom_result

DAG_ID = "kore_campaign_teardown"
GONE = "cd-00000000-0000-4000-8000-00000000dead"


@pytest.fixture(scope="module")
def teardown_module() -> Any:
    return load_example_module(DAG_ID)


def seed_one_of_each(server: SandboxServer) -> dict[str, str]:
    """One campaign in each state a teardown meets; their ids by state."""
    specs: list[dict[str, Any]] = [
        {
            "status": "Active",
            "complete_in_seconds": 600,
            "fields": {"contactLists": ["Weekly new customers"]},
        },
        {"status": "Stopped"},
        {"status": "Completed"},
        {"status": "Ready"},
    ]
    ids = server.admin.seed_campaigns(specs)
    return dict(zip(("Active", "Stopped", "Completed", "Ready"), ids, strict=True))


def calls_per_campaign(server: SandboxServer) -> dict[str, Counter[str]]:
    """How many requests of each kind the sandbox received about each campaign."""
    per: dict[str, Counter[str]] = {}
    for record in server.admin.requests():
        campaign_id = request_campaign_id(record)
        if campaign_id is not None:
            per.setdefault(campaign_id, Counter())[request_kind(record)] += 1
    return per


def test_each_named_campaign_is_stopped_if_running_and_deleted_exactly_once(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer
) -> None:
    ids = seed_one_of_each(examples_sandbox)
    named = [
        ids["Active"],
        ids["Stopped"],
        GONE,
        ids["Completed"],
        ids["Active"],
        ids["Ready"],
        ids["Stopped"],
    ]
    dag = example_dag(DAG_ID)

    dag_run = dag.test(run_conf={"campaign_ids": named})

    assert dag_run.state == "success"
    assert task_states(dag_run) == {
        "contact_lists_to_remove": ["success"],
        "stop_and_delete": ["success"],
        "report": ["success"],
        "delete_contact_list": ["skipped"],  # no list named
    }
    assert examples_sandbox.admin.campaigns()["liveCount"] == 0
    calls = calls_per_campaign(examples_sandbox)
    assert {campaign_id: calls[campaign_id]["delete"] for campaign_id in ids.values()} == {
        campaign_id: 1 for campaign_id in ids.values()
    }
    assert GONE not in calls  # not in the list page: nothing sent about it
    assert [campaign_id for campaign_id, kinds in calls.items() if kinds["stop"]] == [ids["Active"]]
    assert calls[ids["Active"]]["stop"] == 1
    assert Counter(kore_calls(examples_sandbox)) == {"list": 1, "stop": 1, "delete": 4}
    assert xcom_result(dag_run, "report") == {
        "deleted": [ids["Active"], ids["Stopped"], ids["Completed"], ids["Ready"]],
        "already_gone": [GONE],
    }

    examples_sandbox.admin.clear_requests()
    rerun = dag.test(run_conf={"campaign_ids": named})

    assert rerun.state == "success"
    assert xcom_result(rerun, "report") == {"deleted": [], "already_gone": [*dict.fromkeys(named)]}
    assert Counter(kore_calls(examples_sandbox)) == {"list": 1}  # one page says every one is gone


def test_more_campaigns_than_a_mapped_task_may_have_are_torn_down_in_one_task(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19.9: 1,100 ids failed on Airflow's max_map_length (1,024) and stopped nothing."""
    admin = examples_sandbox.admin
    active = admin.seed_many(500, {"status": "Active", "complete_in_seconds": 600})
    finished = admin.seed_many(600, {"status": "Completed"})
    connection = examples_sandbox.connection()
    connection["extra"]["requests_per_minute"] = (
        100_000  # the sandbox has no limit; Kore's 60 would take 30 min
    )
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", json.dumps(connection))

    dag_run = example_dag(DAG_ID).test(run_conf={"campaign_ids": [*active, *finished, GONE]})

    assert dag_run.state == "success"
    assert task_states(dag_run)["stop_and_delete"] == ["success"]
    assert admin.campaigns()["liveCount"] == 0
    assert Counter(kore_calls(examples_sandbox)) == {"list": 11, "stop": 500, "delete": 1100}
    teardown = xcom_result(dag_run, "stop_and_delete")
    assert teardown["counts"] == {"stopped_and_deleted": 500, "deleted": 600, "already_gone": 1}


def test_named_lists_are_deleted_after_the_campaigns_that_use_them(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer
) -> None:
    from airflow_campaign_provider.hooks.campaign import CampaignHook

    hook = CampaignHook()
    in_use, _ = hook.create_contact_list_once("Season gold", "A list")
    alone, _ = hook.create_contact_list_once("Season silver", "A list")
    campaign_id = examples_sandbox.admin.seed_campaign(
        "Active", complete_in_seconds=600, fields={"contactLists": ["Season gold"]}
    )
    lists = [in_use["_id"], alone["_id"], GONE.replace("cd-", "cl-")]

    dag_run = example_dag(DAG_ID).test(run_conf={"campaign_ids": [campaign_id], "contact_list_ids": lists})

    assert dag_run.state == "success"
    assert task_states(dag_run)["delete_contact_list"] == ["success"] * 3
    assert examples_sandbox.admin.campaigns()["liveCount"] == 0
    assert not {"Season gold", "Season silver"} & set(examples_sandbox.admin.resources()["contact_lists"])
    assert [xcom_result(dag_run, "delete_contact_list", i) for i in range(2)] == lists[:2]  # the third: gone


def test_lists_alone_are_deleted_with_no_campaign_named(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer
) -> None:
    from airflow_campaign_provider.hooks.campaign import CampaignHook

    alone, _ = CampaignHook().create_contact_list_once("Season bronze", "A list")

    dag_run = example_dag(DAG_ID).test(run_conf={"contact_list_ids": [alone["_id"]]})

    assert dag_run.state == "success"
    assert task_states(dag_run)["stop_and_delete"] == ["success"]
    assert task_states(dag_run)["delete_contact_list"] == ["success"]
    assert "Season bronze" not in examples_sandbox.admin.resources()["contact_lists"]


def test_a_name_that_is_no_campaign_id_stops_the_run_before_any_call(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer
) -> None:
    ids = seed_one_of_each(examples_sandbox)

    dag_run = example_dag(DAG_ID).test(run_conf={"campaign_ids": [ids["Active"], "cd-1/../cd-2"]})

    assert dag_run.state == "failed"
    assert task_states(dag_run)["stop_and_delete"] == ["failed"]
    assert kore_calls(examples_sandbox) == []
    assert examples_sandbox.admin.campaigns()["liveCount"] == 4


def test_no_campaign_named_is_a_successful_run_that_calls_nothing(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer
) -> None:
    dag_run = example_dag(DAG_ID).test()

    assert dag_run.state == "success"
    assert xcom_result(dag_run, "stop_and_delete")["campaigns"] == []
    assert kore_calls(examples_sandbox) == []


@dataclass(frozen=True)
class FakeAssetRef:
    name: str


@dataclass
class FakeEvent:
    """The fields of a triggering asset event that the teardown reads."""

    extra: dict[str, Any]
    source_dag_id: str | None = "kore_campaign_segments"
    source_run_id: str | None = "manual__1"
    source_task_id: str | None = "publish_finished"
    timestamp: datetime = field(default_factory=lambda: datetime(2025, 1, 6, tzinfo=timezone.utc))


def test_ids_come_from_every_triggering_event_and_the_conf_each_once(teardown_module: Any) -> None:
    asset = FakeAssetRef("kore_campaigns_finished")
    events = {
        asset: [FakeEvent({"campaign_ids": ["cd-a", "cd-b"]}), FakeEvent({"campaign_ids": ["cd-b", "cd-c"]})]
    }

    context = {"params": {"campaign_ids": ["cd-c", "cd-d"]}, "triggering_asset_events": events}
    assert teardown_module.ids_to_remove("campaign_ids", "campaign", context) == [
        "cd-c",
        "cd-d",
        "cd-a",
        "cd-b",
    ]


def test_an_event_without_a_list_of_ids_is_refused_naming_where_it_came_from(teardown_module: Any) -> None:
    from airflow.providers.common.compat.sdk import AirflowFailException

    events = {
        FakeAssetRef("kore_campaigns_finished"): [FakeEvent({"campaign_ids": "cd-a"}, source_dag_id=None)]
    }

    with pytest.raises(
        AirflowFailException, match=r"event of 2025-01-06T00:00:00\+00:00 on kore_campaigns_finished"
    ):
        teardown_module.ids_to_remove(
            "campaign_ids", "campaign", {"params": {"campaign_ids": []}, "triggering_asset_events": events}
        )


def test_an_event_without_ids_names_no_campaign(teardown_module: Any) -> None:
    events = {FakeAssetRef("kore_campaigns_finished"): [FakeEvent({})]}
    context = {"params": {"campaign_ids": []}, "triggering_asset_events": events}

    assert teardown_module.ids_to_remove("campaign_ids", "campaign", context) == []
