"""The results-export example: each completed campaign's results written, then the campaign deleted,
only after every export succeeded; the ids come from the watcher's events and the conf."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_campaign_provider.sandbox import SandboxServer
from tests.example_dags.conftest import kore_calls, task_states, xcom_result

DAG_ID = "kore_campaign_results_export"


@dataclass
class WatcherEvent:
    """An asset event a ``CampaignEventTrigger`` watcher made: its payload under ``extra["payload"]``."""

    extra: dict[str, Any]
    source_dag_id: str | None = None
    timestamp: datetime = field(default_factory=lambda: datetime(2025, 1, 6, tzinfo=timezone.utc))


@pytest.fixture
def results_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KORE_EXAMPLE_RESULTS_URL", f"file://{tmp_path}")
    return tmp_path


def test_each_completed_campaign_is_exported_then_deleted(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer, results_folder: Path
) -> None:
    ids = examples_sandbox.admin.seed_many(3, {"status": "Completed", "campaign_type": "voice"})

    dag_run = example_dag(DAG_ID).test(run_conf={"campaign_ids": [*ids, ids[0]]})

    assert dag_run.state == "success"
    assert task_states(dag_run) == {
        "completed_campaigns": ["success"],
        "export_results": ["success"] * 3,
        "exported_ids": ["success"],
        "delete_exported": ["success"],
    }
    assert sorted(path.name for path in results_folder.iterdir()) == sorted(f"{cid}.csv" for cid in ids)
    assert examples_sandbox.admin.campaigns()["liveCount"] == 0
    assert xcom_result(dag_run, "delete_exported")["counts"] == {"deleted": 3}
    calls = kore_calls(examples_sandbox)
    assert Counter(calls)["delete"] == 3
    last_export_call = max(i for i, kind in enumerate(calls) if kind not in ("list", "delete"))
    assert calls.index("delete") > last_export_call  # nothing deleted before every result was written


def test_a_failed_export_deletes_nothing(
    example_dag: Callable[[str], Any], examples_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KORE_EXAMPLE_RESULTS_URL", "file:///proc/no-such-folder")
    ids = examples_sandbox.admin.seed_many(2, {"status": "Completed", "campaign_type": "voice"})

    dag = example_dag(DAG_ID)
    for task in dag.tasks:
        task.retries = 0  # a failed export ends the run at once

    dag_run = dag.test(run_conf={"campaign_ids": ids})

    assert dag_run.state == "failed"
    assert task_states(dag_run)["delete_exported"] == ["upstream_failed"]
    assert examples_sandbox.admin.campaigns()["liveCount"] == 2


def test_the_watcher_s_events_name_the_campaigns(
    example_dag: Callable[[str], Any], results_folder: Path
) -> None:
    collect = example_dag(DAG_ID).get_task("completed_campaigns").python_callable
    payload = {"campaign_id": "cd-1", "name": "Reminders", "campaign_type": "voice", "status": "Completed"}
    events = {"kore_voice_campaigns_completed": [WatcherEvent({"from_trigger": True, "payload": payload})]}

    assert collect(params={"campaign_ids": ["cd-2"]}, triggering_asset_events=events) == [
        {"campaign_id": "cd-2", "path": f"file://{results_folder}/cd-2.csv"},
        {"campaign_id": "cd-1", "path": f"file://{results_folder}/cd-1.csv"},
    ]


def test_on_airflow_3_3_a_watcher_keeps_the_asset(example_dag: Callable[[str], Any]) -> None:
    from airflow_campaign_provider.triggers.events import AIRFLOW_3_3_PLUS

    (asset,) = example_dag(DAG_ID).timetable.asset_condition.objects
    assert bool(asset.watchers) == AIRFLOW_3_3_PLUS
