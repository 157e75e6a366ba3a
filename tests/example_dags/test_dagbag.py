"""Every example DAG parses cleanly, cheaply and without deprecation warnings, and is wired as documented."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import textwrap
import warnings
from typing import Any

import pytest

from tests.example_dags.conftest import EXAMPLES

EXAMPLE_DAG_IDS = {
    "kore_campaign_weekly_lifecycle",
    "kore_campaign_segments",
    "kore_campaign_teardown",
    "kore_voice_reminder",
    "kore_campaign_results_export",
    "kore_campaign_approval",
}
KORE_TASK_TYPES = {
    "CreateSmsCampaignOperator",
    "StartCampaignOperator",
    "DeleteCampaignOperator",
    "CampaignStatusSensor",
    "TeardownCampaignsOperator",
}


@pytest.fixture(scope="module")
def bag_and_warnings() -> tuple[Any, list[warnings.WarningMessage]]:
    from tests.airflow_names import DagBag

    # The standard provider's HITL operators (the approval example) warn on import on some Airflow
    # lines (3.1: a deprecated import of their own): imported first, their warnings stay theirs.
    with warnings.catch_warnings(), contextlib.suppress(ImportError):
        warnings.simplefilter("ignore")
        import airflow.providers.standard.operators.hitl  # noqa: F401
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(dag_folder=EXAMPLES)
    return bag, caught


@pytest.fixture(scope="module")
def bag(bag_and_warnings: tuple[Any, list[warnings.WarningMessage]]) -> Any:
    return bag_and_warnings[0]


def test_every_example_imports_without_errors(bag: Any) -> None:
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXAMPLE_DAG_IDS
    assert sorted(path.stem for path in EXAMPLES.glob("*.py")) == sorted(EXAMPLE_DAG_IDS)


def test_no_warning_from_the_examples_or_this_package(
    bag_and_warnings: tuple[Any, list[warnings.WarningMessage]],
) -> None:
    """DagBag records each file's warnings (deprecations included) in ``captured_warnings``."""
    bag, caught = bag_and_warnings
    ours = [
        f"{w.category.__name__} {w.filename}:{w.lineno}: {w.message}"
        for w in caught
        if "example_dags" in w.filename or "airflow_campaign_provider" in w.filename
    ]
    assert ours == []
    assert bag.captured_warnings == {}


@pytest.mark.parametrize("dag_id", sorted(EXAMPLE_DAG_IDS))
def test_each_example_says_when_to_use_it_and_reads_the_default_connection(bag: Any, dag_id: str) -> None:
    dag = bag.dags[dag_id]
    assert dag.doc_md is not None
    assert dag.doc_md.splitlines()[2].startswith("Use this")
    assert "kore_campaign_default" in dag.doc_md
    kore_tasks = [task for task in dag.tasks if task.task_type in KORE_TASK_TYPES]
    assert kore_tasks
    for task in kore_tasks:
        if task.is_mapped:
            assert task.partial_kwargs.get("kore_conn_id", "kore_campaign_default") == "kore_campaign_default"
        else:
            assert task.kore_conn_id == "kore_campaign_default"


def test_lifecycle_deletes_in_a_teardown_that_stops_first_and_waits_deferred(bag: Any) -> None:
    dag = bag.dags["kore_campaign_weekly_lifecycle"]
    create, delete = dag.get_task("create_campaign"), dag.get_task("delete_campaign")
    wait = dag.get_task("wait_for_completion")
    assert delete.is_teardown
    assert create.is_setup
    assert not delete.on_failure_fail_dagrun  # else a failed wait would leave the run green
    assert delete.stop_first
    assert create.task_id in delete.upstream_task_ids
    assert "wait_for_completion" in delete.upstream_task_ids
    assert wait.deferrable
    assert wait.target_statuses == ("Completed",)
    expression = getattr(dag.timetable, "expression", None) or dag.timetable._expression  # 3.1: private
    assert (type(dag.timetable).__name__, expression) == ("CronTriggerTimetable", "0 9 * * MON")


def test_segments_map_one_campaign_per_segment_and_publish_the_asset_the_teardown_waits_for(bag: Any) -> None:
    segments = bag.dags["kore_campaign_segments"]
    teardown = bag.dags["kore_campaign_teardown"]
    for task_id in (
        "create_contact_list",
        "upload_contacts",
        "create_campaign",
        "start_campaign",
        "wait_for_completion",
    ):
        assert segments.get_task(task_id).is_mapped
    assert "create_campaign" in segments.get_task("upload_contacts").downstream_task_ids
    assert segments.get_task("wait_for_completion").partial_kwargs["deferrable"] is True
    (published,) = segments.get_task("publish_finished").outlets
    scheduled_on = {(asset.name, asset.uri) for asset in teardown.timetable.asset_condition.objects}
    assert (published.name, published.uri) in scheduled_on
    assert teardown.params["campaign_ids"] == []
    assert teardown.params["contact_list_ids"] == []


def test_approval_starts_only_when_approved_and_deletes_only_when_the_start_was_skipped(bag: Any) -> None:
    dag = bag.dags["kore_campaign_approval"]
    approve, start = dag.get_task("approve_campaign"), dag.get_task("start_campaign")
    delete = dag.get_task("delete_rejected_campaign")
    assert approve.task_type == "ApprovalOperator"
    assert approve.defaults == ["Reject"]  # no answer in time counts as Reject
    assert approve.response_timeout is not None
    assert "approve_campaign" in start.upstream_task_ids  # play only after the approval
    assert delete.upstream_task_ids == {"start_campaign"}
    assert delete.trigger_rule == "all_skipped"
    assert dag.get_task("create_contact_list").task_id in dag.get_task("upload_contacts").upstream_task_ids
    assert {"upload_contacts"} <= dag.get_task("create_campaign").upstream_task_ids


def test_teardown_is_one_task_whatever_the_number_of_campaigns(bag: Any) -> None:
    remove = bag.dags["kore_campaign_teardown"].get_task("stop_and_delete")
    assert not remove.is_mapped  # Airflow maps at most 1,024 (issue 19.9)
    assert (remove.conf_key, remove.asset_event_key) == ("campaign_ids", "campaign_ids")


#: In a fresh interpreter: import the Task SDK, then each example with deprecation warnings as
#: errors and the network closed; print the modules each example added.
_PROBE = textwrap.dedent(
    """
    import contextlib, json, runpy, socket, sys, warnings
    from airflow.sdk import DAG, Asset, Param, task

    # Another provider's operator an example uses weighs what it weighs (the standard provider's
    # HITL operators load Airflow's API models): counted before, so the count is this package's.
    with contextlib.suppress(ImportError):
        import airflow.providers.standard.operators.hitl

    def refuse(*args, **kwargs):
        raise AssertionError("an example DAG opened a connection at import")

    socket.socket.connect = refuse
    socket.create_connection = refuse
    warnings.simplefilter("error", DeprecationWarning)
    added = {}
    for path in sys.argv[1:]:
        before = set(sys.modules)
        runpy.run_path(path)
        added[path] = sorted(set(sys.modules) - before)
    print(json.dumps(added))
    """
)
#: What the sandbox and its server stack pull in; a DAG file has no use for them when parsed.
HEAVY_MODULES = ("fastapi", "uvicorn", "starlette", "httpx", "airflow_campaign_provider.sandbox")


def test_examples_import_cheaply_without_io_or_deprecations() -> None:
    paths = sorted(str(EXAMPLES / f"{dag_id}.py") for dag_id in EXAMPLE_DAG_IDS)
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, *paths], capture_output=True, text=True, timeout=180, check=False
    )
    assert probe.returncode == 0, probe.stderr
    added: dict[str, list[str]] = json.loads(probe.stdout.splitlines()[-1])
    assert set(added) == set(paths)
    for path, modules in added.items():
        assert [name for name in modules if name.startswith(HEAVY_MODULES)] == [], path
        assert len(modules) < 100, f"{path} imports {len(modules)} modules beyond the Task SDK"
