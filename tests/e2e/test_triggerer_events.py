"""Airflow 3.3's triggerer features under a real Airflow (api-server, scheduler, dag-processor,
triggerer; LocalExecutor) against the sandbox, in one deployment:

* an ``AssetWatcher`` over ``CampaignEventTrigger`` runs its DAG once per campaign that completes,
  none twice, also for a campaign that completed while the triggerer was down (the watcher's
  cursor is kept in the asset's state store);
* a deferred start-and-wait that a person marks failed stops the campaign it started (the
  trigger's ``on_kill``), while a triggerer restart, which moves the trigger, stops nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.config import SandboxConfig, load_seed
from airflow_campaign_provider.triggers.events import AIRFLOW_3_3_PLUS
from tests.e2e.processes import RealAirflow, local_airflow
from tests.example_dags.conftest import SEED_FILE

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not AIRFLOW_3_3_PLUS, reason="asset watchers' state store and trigger on_kill: Airflow 3.3"
    ),
]

DAGS = Path(__file__).parent / "dags_events"
WATCH_DAG = "kore_e2e_on_completed"
START_DAG = "kore_e2e_start_and_wait"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
STARTUP_SECONDS = 240.0
STEP_SECONDS = 180.0
#: A list long enough that its campaign is still sending when the test is done with it.
BIG_LIST = "Big list"
BIG_LIST_SIZE = 2000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    config = replace(
        SandboxConfig(rate_limit_per_window=None, preparing_seconds=0.5, send_interval_seconds=0.5),
        seed=load_seed(SEED_FILE),
    )
    with SandboxServer(config) as server:
        server.admin.put_contact_list(BIG_LIST, [f"+1415556{n:04d}" for n in range(BIG_LIST_SIZE)])
        yield server


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxServer) -> Iterator[RealAirflow]:
    """The four components; the scheduler also makes asset-triggered runs (no runs on a clock:
    the DAGs have none)."""
    home = tmp_path_factory.mktemp("airflow")
    with local_airflow(
        home, DAGS, sandbox.connection_json(), COMPONENTS, AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="True"
    ) as deployment:
        yield deployment


def api(airflow: RealAirflow, method: str, path: str, body: object = None) -> dict:
    """Airflow's REST API, as a person's client calls it (everyone is admin in this deployment)."""
    url = f"http://127.0.0.1:{airflow.env['AIRFLOW__API__PORT']}/api/v2{path}"
    answer = requests.request(method, url, json=body, timeout=30)
    assert answer.ok, f"{method} {path}: {answer.status_code} {answer.text[:500]}"
    return dict(answer.json())


def api_up(airflow: RealAirflow) -> bool | None:
    try:
        url = f"http://127.0.0.1:{airflow.env['AIRFLOW__API__PORT']}/api/v2/monitor/health"
        return requests.get(url, timeout=5).ok or None
    except requests.RequestException:
        return None


def status_of(sandbox: SandboxServer, campaign_id: str) -> str:
    return next(str(c["status"]) for c in sandbox.admin.campaigns()["campaigns"] if c["id"] == campaign_id)


def watched_runs(airflow: RealAirflow) -> list[str]:
    """The campaign id each asset event of the watcher carried, oldest first."""
    rows = airflow.query(
        "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = ? ORDER BY e.id",
        "kore_e2e_completed",
    )
    return [json.loads(extra)["payload"]["campaign_id"] for (extra,) in rows]


def run_count(airflow: RealAirflow) -> int:
    return len(airflow.query("SELECT run_id FROM dag_run WHERE dag_id = ?", WATCH_DAG))


def lists_seen_since(sandbox: SandboxServer, mark: int) -> bool | None:
    """Whether the sandbox answered a campaign list call after request number ``mark``."""
    return any("getAllCampaignDetails" in r["path"] for r in sandbox.admin.requests()[mark:]) or None


def waits_on_newest_triggerer(airflow: RealAirflow) -> int:
    """How many status waits the most recently started triggerer runs."""
    rows = airflow.query(
        "SELECT COUNT(*) FROM trigger WHERE classpath LIKE '%CampaignStatusTrigger' AND triggerer_id ="
        " (SELECT MAX(id) FROM job WHERE job_type = 'TriggererJob')"
    )
    return int(rows[0][0]) if rows else 0


def start_run(airflow: RealAirflow, campaign_id: str) -> str:
    run = api(
        airflow,
        "POST",
        f"/dags/{START_DAG}/dagRuns",
        {"logical_date": None, "conf": {"campaign_id": campaign_id}},
    )
    return str(run["dag_run_id"])


def deferred(airflow: RealAirflow, run_id: str) -> bool | None:
    states = airflow.query(
        "SELECT state FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'start'",
        START_DAG,
        run_id,
    )
    return (states == [("deferred",)]) or None


@pytest.mark.timeout(900)  # a real Airflow on a busy 2-core machine: each wait is bounded on its own
def test_watcher_runs_once_per_completed_campaign_and_kill_stops_only_on_a_persons_act(airflow, sandbox):
    admin = sandbox.admin
    airflow.wait_for("the api-server", lambda: api_up(airflow), STARTUP_SECONDS)
    airflow.wait_for("the watcher's first list call", lambda: lists_seen_since(sandbox, 0), STARTUP_SECONDS)

    # Two deferred start-and-waits on campaigns that keep sending for many minutes.
    started = [
        admin.seed_campaign(status="Ready", fields={"name": f"Kept {n}", "contactLists": [BIG_LIST]})
        for n in (1, 2)
    ]
    runs = [start_run(airflow, campaign_id) for campaign_id in started]
    for run_id in runs:
        airflow.wait_for(
            f"run {run_id} deferred", lambda run_id=run_id: deferred(airflow, run_id), STEP_SECONDS
        )
    assert [status_of(sandbox, campaign_id) for campaign_id in started] == ["Active", "Active"]

    # A campaign completes: one run.
    first = admin.seed_campaign(status="Active", complete_in_seconds=1.0, fields={"name": "Watched 1"})
    airflow.wait_for("the first watched run", lambda: run_count(airflow) == 1 or None, STEP_SECONDS)

    # The triggerer dies; a campaign completes meanwhile; a new triggerer fires it, and moves the
    # deferred waits over without stopping their campaigns.
    airflow.kill("triggerer")
    second = admin.seed_campaign(status="Active", complete_in_seconds=1.0, fields={"name": "Watched 2"})
    airflow.wait_for(
        "the second campaign completed", lambda: status_of(sandbox, second) == "Completed" or None, 60
    )
    mark = len(admin.requests())
    airflow.start("triggerer", name="triggerer-2")
    airflow.wait_for("the new triggerer's list call", lambda: lists_seen_since(sandbox, mark), STEP_SECONDS)
    airflow.wait_for("the second watched run", lambda: run_count(airflow) == 2 or None, STEP_SECONDS)
    airflow.wait_for(
        "the new triggerer to run both waits",
        lambda: waits_on_newest_triggerer(airflow) == 2 or None,
        STEP_SECONDS,
    )
    assert [status_of(sandbox, campaign_id) for campaign_id in started] == ["Active", "Active"]

    # A person marks the first wait failed: its trigger's on_kill stops the campaign it started.
    api(airflow, "PATCH", f"/dags/{START_DAG}/dagRuns/{runs[0]}/taskInstances/start", {"new_state": "failed"})
    airflow.wait_for(
        "the killed wait's campaign stopped", lambda: status_of(sandbox, started[0]) == "Stopped" or None, 60
    )
    assert status_of(sandbox, started[1]) == "Active"

    third = admin.seed_campaign(status="Active", complete_in_seconds=1.0, fields={"name": "Watched 3"})
    airflow.wait_for("the third watched run", lambda: run_count(airflow) == 3 or None, STEP_SECONDS)
    # Many polls later: still one event, one run, per campaign.
    mark = len(admin.requests())
    for _ in range(5):
        airflow.wait_for("another poll", lambda mark=mark: lists_seen_since(sandbox, mark), 60)
        mark = len(admin.requests())
    assert watched_runs(airflow) == [first, second, third]
    assert run_count(airflow) == 3
