"""The sensor run the way Airflow runs it: ``dag.test()`` with a metadata DB, against the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from airflow_campaign_provider.sandbox import SandboxServer

DAGS_FOLDER = Path(__file__).with_name("dags")


def test_every_mode_waits_for_completion_and_returns_the_status(
    metadata_db: None, kore_sandbox: SandboxServer, dags_folder: Callable[[Path], None]
) -> None:
    dags_folder(DAGS_FOLDER)
    from tests.airflow_names import DagBag

    bag = DagBag(dag_folder=DAGS_FOLDER)
    assert bag.import_errors == {}
    campaign_id = kore_sandbox.admin.seed_campaign("Active", complete_in_seconds=2.0)

    dag_run = bag.get_dag("kore_wait_for_campaign").test(run_conf={"campaign_id": campaign_id})

    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states == dict.fromkeys(("deferred", "poked", "rescheduled", "statuses"), "success")
    statuses = next(ti for ti in dag_run.get_task_instances() if ti.task_id == "statuses")
    assert statuses.xcom_pull(task_ids="statuses") == ["Completed"] * 3
