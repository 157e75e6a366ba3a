"""The weekly lifecycle example under a real Airflow: api-server, scheduler, dag-processor and
triggerer (LocalExecutor, SQLite) in a throwaway AIRFLOW_HOME, against the sandbox.

``dag.test()`` runs a deferred task's trigger inline; this proves the deferrable sensor really
hands its wait to the triggerer process and resumes in a worker when the trigger fires. To make
the proof deterministic, the sandbox keeps reporting the campaign ``Active`` (a forced status)
until the test has seen the task deferred and its trigger claimed by the triggerer; then the
real status, ``Completed`` by then, shows through.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.config import SandboxConfig, load_seed
from tests.e2e.processes import RealAirflow, local_airflow
from tests.example_dags.conftest import EXAMPLES, SEED_FILE, when_active

pytestmark = pytest.mark.e2e

DAG_ID = "kore_campaign_weekly_lifecycle"
TASKS = ("create_campaign", "start_campaign", "wait_for_completion", "delete_campaign")
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: Upper bounds of each wait on this slow, shared machine; a healthy run stays far below them.
STARTUP_SECONDS = 240.0
RUN_SECONDS = 300.0
#: The scheduler's line for the executor event of the worker that deferred the wait.
DEFER_EXIT_SEEN = re.compile(
    rf"TaskInstance Finished: dag_id={DAG_ID}, task_id=wait_for_completion, .*state=deferred"
)


@pytest.fixture
def client_secret() -> str:
    """A secret that appears nowhere else, so a leak into the logs cannot hide."""
    return f"e2e-client-secret-{secrets.token_hex(16)}"


@pytest.fixture
def sandbox(client_secret: str) -> Iterator[SandboxServer]:
    """A sandbox of its own: the examples' seed, no rate limit, a campaign sends for ~3 s."""
    config = replace(
        SandboxConfig(rate_limit_per_window=None, preparing_seconds=1.0, send_interval_seconds=0.5),
        client_secret=client_secret,
        seed=load_seed(SEED_FILE),
    )
    with SandboxServer(config) as server:
        yield server


@pytest.fixture
def real_airflow(tmp_path: Path, sandbox: SandboxServer) -> Iterator[RealAirflow]:
    """Api-server, scheduler, dag-processor and triggerer on a fresh SQLite metadata DB."""
    with local_airflow(tmp_path, EXAMPLES, sandbox.connection_json(), COMPONENTS) as airflow:
        yield airflow


def trigger_log(home: Path) -> Path | None:
    """The triggerer's log of the wait task's trigger, once it exists."""
    return next(
        iter((home / "logs").glob(f"dag_id={DAG_ID}/*/task_id=wait_for_completion/*.trigger.*.log")), None
    )


def trigger_events(home: Path) -> list[str]:
    """The messages of the trigger's log, oldest first."""
    path = trigger_log(home)
    if path is None:
        return []
    return [
        json.loads(line)["event"] for line in path.read_text(errors="replace").splitlines() if line.strip()
    ]


def statuses_logged(home: Path, campaign_id: str) -> list[str]:
    """The statuses the trigger logged for the campaign, in order."""
    return [
        status
        for event in trigger_events(home)
        if campaign_id in event
        for status in ("Active", "Completed")
        if f"{status}." in event or f"'{status}'" in event
    ]


@contextlib.contextmanager
def held_active(server: SandboxServer) -> Iterator[list[str]]:
    """Once a campaign is really Active, make every read report it Active until the block ends.

    Yields the list that receives the campaign's id once it is held.
    """
    with when_active(
        server,
        lambda admin, campaign_id: admin.force_status(campaign_id, "Active"),
        STARTUP_SECONDS + RUN_SECONDS,
    ) as held:
        try:
            yield held
        finally:
            for campaign_id in held:
                server.admin.force_status(campaign_id, None)


def test_the_sensor_defers_to_the_triggerer_and_resumes_under_a_real_scheduler(
    real_airflow: RealAirflow, sandbox: SandboxServer, client_secret: str
) -> None:
    airflow = real_airflow
    airflow.wait_for(
        "the dag-processor to parse the example",
        lambda: airflow.query("SELECT dag_id FROM dag WHERE dag_id = ? AND is_paused = 0", DAG_ID) or None,
        STARTUP_SECONDS,
    )
    with held_active(sandbox) as held:
        airflow.cli("dags", "trigger", DAG_ID)
        ti_trigger = airflow.wait_for(
            "wait_for_completion to defer",
            lambda: (
                airflow.query(
                    "SELECT trigger_id, next_method FROM task_instance "
                    "WHERE dag_id = ? AND task_id = 'wait_for_completion' AND state = 'deferred'",
                    DAG_ID,
                )
                or None
            ),
            RUN_SECONDS,
        )
        ((trigger_id, next_method),) = ti_trigger
        classpath, triggerer_id = airflow.wait_for(
            "the triggerer to claim the trigger",
            lambda: next(
                iter(
                    airflow.query(
                        "SELECT classpath, triggerer_id FROM trigger WHERE id = ? AND triggerer_id IS NOT NULL",
                        trigger_id,
                    )
                ),
                None,
            ),
            RUN_SECONDS,
        )
        (job_type,) = airflow.query("SELECT job_type FROM job WHERE id = ?", triggerer_id)[0]
        (campaign_id,) = held
        airflow.wait_for(
            "the trigger to read the campaign's status in the triggerer",
            lambda: statuses_logged(airflow.home, campaign_id) or None,
            RUN_SECONDS,
        )
        # Airflow 3.3's scheduler fails a resumed task (and retries it) when the trigger fires
        # before it has handled the exit of the worker that deferred. Real campaigns take far
        # longer than that; here the status is held until the scheduler has handled it.
        airflow.wait_for(
            "the scheduler to see the deferring worker exit",
            lambda: DEFER_EXIT_SEEN.search((airflow.home / "scheduler.log").read_text(errors="replace")),
            RUN_SECONDS,
        )

    run_state = airflow.wait_for_run_end(DAG_ID, RUN_SECONDS)

    assert classpath == "airflow_campaign_provider.triggers.campaign.CampaignStatusTrigger"
    assert job_type == "TriggererJob"
    assert next_method == "execute_complete"
    assert run_state == "success", airflow.diagnosis()
    states = dict(airflow.query("SELECT task_id, state FROM task_instance WHERE dag_id = ?", DAG_ID))
    assert states == {task: "success" for task in TASKS}
    ((try_number, resumed_method),) = airflow.query(
        "SELECT try_number, next_method FROM task_instance WHERE dag_id = ? AND task_id = 'wait_for_completion'",
        DAG_ID,
    )
    assert try_number == 1  # resumed from the deferral, not retried
    assert resumed_method is None

    # The worker deferred; the triggerer polled (Active, then Completed once released) and fired;
    # a worker resumed the task in execute_complete.
    assert statuses_logged(airflow.home, campaign_id)[:2] == ["Active", "Completed"]
    assert "Trigger fired event" in trigger_events(airflow.home)
    log_file = trigger_log(airflow.home)
    assert log_file is not None
    task_log = log_file.with_name("attempt=1.log").read_text()
    assert task_log.index("Pausing task as DEFERRED") < task_log.index(
        f"Campaign {campaign_id} reached status 'Completed'."
    )
    logs = sorted(path for path in (airflow.home / "logs").rglob("*") if path.is_file())
    everything = [*logs, *(airflow.home / f"{name}.log" for name in COMPONENTS)]
    leaks = [str(path) for path in everything if client_secret in path.read_text(errors="replace")]
    assert leaks == []

    admin = sandbox.admin
    assert admin.campaigns()["liveCount"] == 0
    phones = [m["phone"] for m in admin.messages()]
    resources = admin.resources()
    due = set(resources["contact_lists"]["Weekly new customers"]) - set(resources["dnc_lists"]["Do not text"])
    assert sorted(phones) == sorted(due)
