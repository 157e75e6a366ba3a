"""The voice reminder example, run with ``dag.test()`` against the sandbox: one call sequence per
contact, the results file and its summary, and nothing left in Kore."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.sandbox.dialer import call_plan
from tests.example_dags.conftest import (
    assert_every_task_succeeded_and_campaign_deleted,
    kore_calls,
    xcom_result,
)

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from airflow_campaign_provider.sandbox import SandboxServer

DAG_ID = "kore_voice_reminder"
TASKS = ("create_campaign", "start_and_wait", "export_results", "delete_campaign")


def test_the_voice_reminder_calls_each_contact_once_exports_results_and_cleans_up(
    example_dag: Callable[[str], Any],
    examples_sandbox: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KORE_EXAMPLE_RESULTS_URL", f"file://{tmp_path}")

    dag_run = example_dag(DAG_ID).test()

    assert_every_task_succeeded_and_campaign_deleted(dag_run, examples_sandbox, TASKS)
    admin = examples_sandbox.admin
    resources = admin.resources()
    due = sorted(
        set(resources["contact_lists"]["CL Only 2020 Dec 4"]) - set(resources["dnc_lists"]["DNC CL Dec 4"])
    )
    called = [m["phone"] for m in admin.messages()]
    assert sorted(called) == due  # each contact's call sequence started once, the DNC number never
    calls = Counter(kore_calls(examples_sandbox))
    assert calls["create"] == calls["play"] == calls["delete"] == 1
    (results,) = list(tmp_path.glob("*.csv"))
    with results.open(newline="") as handle:
        rows = {"+" + row["phoneNumber"]: row for row in csv.DictReader(handle)}  # as Kore writes them
    assert sorted(rows) == due
    assert all(int(rows[p]["numberOfAttemptsSoFar"]) == call_plan(p, 3).attempts for p in due)
    summary = xcom_result(dag_run, "export_results")
    assert summary["rows"] == len(due)
    assert summary["per_contact"] is True
    assert sum(summary["by_dialer_outcome"].values()) == len(due)
