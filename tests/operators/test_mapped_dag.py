"""Mapped operators over 20 campaigns, run the way Airflow runs them: ``dag.test()`` with a metadata DB."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from airflow_campaign_provider.sandbox import SandboxServer

DAGS_FOLDER = Path(__file__).with_name("dags")


def test_twenty_mapped_campaigns_run_through_every_operator(
    metadata_db: None, kore_sandbox: SandboxServer, dags_folder: Callable[[Path], None]
) -> None:
    dags_folder(DAGS_FOLDER)
    from tests.airflow_names import DagBag

    bag = DagBag(dag_folder=DAGS_FOLDER)
    assert bag.import_errors == {}
    dag = bag.get_dag("kore_mapped_campaigns")

    dag_run = dag.test()

    states = Counter((ti.task_id, ti.state) for ti in dag_run.get_task_instances())
    assert states == {(task, "success"): 20 for task in ("create", "start", "stop", "delete")}
    admin = kore_sandbox.admin
    assert admin.campaigns()["liveCount"] == 0
    assert admin.campaigns()["deletedCount"] == 20
    messages = admin.messages()
    per_campaign = Counter(m["campaignId"] for m in messages)
    assert len(per_campaign) == 20
    assert set(per_campaign.values()) == {4}  # five contacts, one on the DNC list
    assert len({(m["campaignId"], m["phone"]) for m in messages}) == len(messages)
