"""The approval example under a real Airflow (api-server, scheduler, dag-processor, triggerer;
LocalExecutor) against the sandbox: a reviewer approves one run and rejects another through
Airflow's REST API, as the UI's "Required actions" page does.

Approved, the campaign is started and every contact on its list but those on its DNC list is
texted exactly once; rejected, the campaign is deleted and nobody is texted. Nothing is texted
while the reviewer has not answered.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from airflow_campaign_provider.sandbox import SandboxServer
from tests.e2e.processes import RealAirflow
from tests.e2e.test_real_scheduler import RUN_SECONDS, STARTUP_SECONDS, client_secret, real_airflow, sandbox
from tests.example_dags.conftest import load_example_module

__all__ = ["client_secret", "real_airflow", "sandbox"]  # fixtures, used by name

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        load_example_module("kore_campaign_approval").ApprovalOperator is None,
        reason="this Airflow's standard provider has no Human-in-the-loop operators (Airflow 3.1+)",
    ),
]

DAG_ID = "kore_campaign_approval"
APPROVAL_TASK = "approve_campaign"
#: Where the HITL task waits: AWAITING_INPUT on Airflow 3.3, deferred to its trigger before.
WAITING_STATES = ("awaiting_input", "deferred")
#: The scheduler's log line for a processed exit of the approval task's workload while it waits.
PAUSE_PROCESSED = re.compile(
    rf"TaskInstance Finished: dag_id={DAG_ID}, task_id={APPROVAL_TASK}, run_id=(\w+),[^\n]*?"
    rf"state=(?:{'|'.join(WAITING_STATES)})"
)
CAMPAIGN_ID = re.compile(r"`(cd-[0-9a-f-]+)`")


def hitl_url(run_id: str) -> str:
    return f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{APPROVAL_TASK}/-1/hitlDetails"


def run_states(airflow: RealAirflow, run_id: str) -> dict[str, str]:
    return dict(
        airflow.query(
            "SELECT task_id, state FROM task_instance WHERE dag_id = ? AND run_id = ?", DAG_ID, run_id
        )
    )


@pytest.mark.timeout(600)  # a real Airflow on a busy 2-core machine: its waits are bounded on their own
def test_a_reviewer_approves_one_campaign_and_rejects_another_through_the_rest_api(
    real_airflow: RealAirflow, sandbox: SandboxServer
) -> None:
    airflow, admin = real_airflow, sandbox.admin
    api = httpx.Client(base_url=f"http://127.0.0.1:{airflow.env['AIRFLOW__API__PORT']}", timeout=30)
    airflow.wait_for(
        "the dag-processor to parse the example",
        lambda: airflow.query("SELECT dag_id FROM dag WHERE dag_id = ? AND is_paused = 0", DAG_ID) or None,
        STARTUP_SECONDS,
    )
    for run_id in ("approved", "rejected"):
        airflow.cli("dags", "trigger", DAG_ID, "--run-id", run_id)

    def waiting_for_review() -> list[Any] | None:
        rows = airflow.query(
            f"SELECT run_id FROM task_instance WHERE dag_id = ? AND task_id = ? "
            f"AND state IN ({', '.join('?' * len(WAITING_STATES))})",
            DAG_ID,
            APPROVAL_TASK,
            *WAITING_STATES,
        )
        return rows if len(rows) == 2 else None

    airflow.wait_for("both runs to wait for a reviewer", waiting_for_review, RUN_SECONDS)

    def pause_seen_by_scheduler() -> bool | None:
        # Airflow 3.3.2 fails the try of a HITL task answered before its scheduler has processed
        # the pausing workload's exit ("finished with state success, but ... queued"): a person
        # takes seconds, this test milliseconds, so it answers once the scheduler logged both.
        log = (airflow.home / "scheduler.log").read_text(errors="replace")
        return set(PAUSE_PROCESSED.findall(log)) >= {"approved", "rejected"} or None

    airflow.wait_for("the scheduler to see both tasks wait", pause_seen_by_scheduler, RUN_SECONDS)

    def review(run_id: str) -> dict[str, Any] | None:
        answer = api.get(hitl_url(run_id))
        return answer.json() if answer.status_code == 200 else None

    campaigns: dict[str, str] = {}
    for run_id in ("approved", "rejected"):
        detail = airflow.wait_for(
            f"the review of run {run_id}", lambda run_id=run_id: review(run_id), RUN_SECONDS
        )
        match = CAMPAIGN_ID.search(detail["body"])
        assert match, detail["body"]
        campaigns[run_id] = match.group(1)
        assert detail["options"] == ["Approve", "Reject"]
        assert detail["defaults"] == ["Reject"]
        assert "+14155550100" in detail["body"]  # the sender
        assert "Acme spring sale: 20% off everything until Sunday" in detail["body"]
        # 12 valid numbers in the file; one of them is on the DNC list, which Kore removes itself.
        assert "at most **12**" in detail["body"]
        assert "'Do not text'" in detail["body"]
        assert detail["subject"].startswith("Text up to 12 contacts with campaign Spring sale ")
    assert campaigns["approved"] != campaigns["rejected"]
    # Nobody is texted while the reviewer has not answered.
    assert admin.messages() == []
    live = {c["id"]: c["status"] for c in admin.campaigns()["campaigns"]}
    assert {live[campaigns["approved"]], live[campaigns["rejected"]]} == {"Ready"}

    for run_id, choice in (("approved", "Approve"), ("rejected", "Reject")):
        answer = api.patch(hitl_url(run_id), json={"chosen_options": [choice]})
        assert answer.status_code == 200, answer.text

    def ended(run_id: str) -> str | None:
        rows = airflow.query("SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", DAG_ID, run_id)
        return rows[0][0] if rows and rows[0][0] not in ("running", "queued") else None

    ends = {
        run_id: airflow.wait_for(f"run {run_id} to end", lambda run_id=run_id: ended(run_id), RUN_SECONDS)
        for run_id in campaigns
    }
    assert ends == {"approved": "success", "rejected": "success"}, airflow.diagnosis()
    assert run_states(airflow, "approved")["start_campaign"] == "success"
    assert run_states(airflow, "approved")["delete_rejected_campaign"] == "skipped"
    assert run_states(airflow, "rejected")["start_campaign"] == "skipped"
    assert run_states(airflow, "rejected")["delete_rejected_campaign"] == "success"

    resources = admin.resources()
    lists = [
        set(phones) for name, phones in resources["contact_lists"].items() if name.startswith("Spring sale")
    ]
    assert len(lists) == 2  # one per run, the same file uploaded to each
    assert lists[0] == lists[1]
    assert len(lists[0]) == 12
    due = sorted(lists[0] - set(resources["dnc_lists"]["Do not text"]))
    airflow.wait_for(
        "the approved campaign to text its contacts",
        lambda: len(admin.messages(campaigns["approved"])) >= len(due) or None,
        RUN_SECONDS,
    )
    live = {c["id"]: c["status"] for c in admin.campaigns()["campaigns"]}
    assert campaigns["rejected"] not in live
    assert admin.campaigns()["deletedCount"] == 1
    assert live[campaigns["approved"]] in ("Active", "Completed")
    assert admin.messages(campaigns["rejected"]) == []
    assert sorted(m["phone"] for m in admin.messages()) == due  # each once, the rejected one nobody
