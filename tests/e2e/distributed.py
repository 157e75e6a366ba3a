"""A distributed Airflow against the sandbox: CeleryExecutor, two workers, two triggerers.

PostgreSQL (metadata DB and Celery results) and Redis (Celery broker in db 0, the shared request
budget in db 1) come from Debian's packages and run in temporary folders on 127.0.0.1. The
sandbox enforces Kore's rate limit with time scaled (``budget`` requests per ``window`` seconds,
the same budget the provider is given). ``tests/e2e/dags/kore_distributed_campaigns.py`` creates,
starts and waits on ``campaigns`` campaigns at once.

:func:`run_campaigns` triggers the DAG, optionally kills one Celery worker while it runs a task
and one triggerer while it holds triggers (SIGKILL, the whole process tree), waits for the run to
end and reads the figures from the sandbox's own record. ``bench/distributed_budget.py`` runs it
with the shared budget and without it; ``tests/e2e/test_distributed.py`` asserts on one run.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.config import SandboxConfig, load_seed
from airflow_campaign_provider.sandbox.seed import Seed
from bench.benchkit import busiest_window
from tests.e2e.processes import RealAirflow, components_env, descendants
from tests.example_dags.conftest import SEED_FILE
from tests.servers import free_port, postgres_server, redis_server

DAG_ID = "kore_distributed_campaigns"
DAGS = Path(__file__).parent / "dags"
STARTUP_SECONDS = 240.0
RUN_SECONDS = 420.0
#: The JSON-lines file in the Airflow home every component appends its OpenLineage events to.
LINEAGE_FILE = "openlineage.jsonl"


@dataclass(frozen=True)
class Plan:
    """The scaled deployment: ``budget`` requests per ``window`` seconds stand for Kore's 60 a minute."""

    campaigns: int = 10
    contacts: int = 3
    #: Below what two triggerers' pollers ask for (a list call each per second): the budget binds.
    budget: int = 8
    window: int = 5
    #: Time is scaled, a loaded machine's delays between a slot and its send are not: 2 s of
    #: slack on this 5 s window (the default, 1 s, is meant for Kore's 60 s).
    slack: int = 2
    shared_budget: bool = True
    chaos: bool = True

    def phones(self, campaign: int) -> list[str]:
        return [f"+1415556{campaign:02d}{contact:02d}" for contact in range(1, self.contacts + 1)]

    def seed(self) -> Seed:
        seed = load_seed(SEED_FILE)
        for n in range(1, self.campaigns + 1):
            seed.contact_lists[f"Distributed {n:02d}"] = self.phones(n)
        return seed


@dataclass
class Figures:
    """What the sandbox recorded, and what Airflow says, about one run."""

    seconds: float
    run_state: str
    task_states: Counter[str]
    tries: Counter[int]
    calls: int
    refused: int
    busiest_window: int
    busiest_budget_span: int
    calls_per_window: float
    creates_per_name: Counter[str]
    texts_per_phone: Counter[str]
    expected_phones: list[str]
    campaign_statuses: Counter[str]
    campaign_names: Counter[str]
    #: The campaigns named as outputs of the create tasks' OpenLineage COMPLETE events.
    lineage_campaigns: Counter[str]
    killed: list[str] = field(default_factory=list)
    moved_triggers: int = 0


@dataclass(kw_only=True)
class Deployment(RealAirflow):
    """The running processes, on PostgreSQL, and the sandbox they talk to."""

    plan: Plan
    database_url: str
    sandbox: SandboxServer

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the PostgreSQL metadata DB; ``?`` placeholders, as for SQLite."""
        import psycopg2

        with (
            contextlib.closing(
                psycopg2.connect(self.database_url.replace("postgresql+psycopg2", "postgresql"))
            ) as db,
            db.cursor() as cursor,
        ):
            cursor.execute(sql.replace("?", "%s"), params)
            return list(cursor.fetchall())


def _environment(
    plan: Plan, home: Path, database: str, broker: str, store: str, sandbox: SandboxServer
) -> dict[str, str]:
    connection = sandbox.connection()
    connection["extra"]["requests_per_minute"] = plan.budget
    env = components_env(home, DAGS, json.dumps(connection), port=free_port())
    env.update(
        {
            "KORE_E2E_CAMPAIGNS": str(plan.campaigns),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{database}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
            # A task lost with a killed worker is handed out again well within the run.
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "30",
            "AIRFLOW__CORE__PARALLELISM": "16",
            # OpenLineage on, as a governed deployment has it: every process appends its events
            # to one file (small appends to one file are whole lines on Linux).
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(home / LINEAGE_FILE), "append": True}
            ),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "kore-distributed",
            # A killed worker's tasks and a killed triggerer's triggers are noticed in seconds.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "30",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
            "AIRFLOW__KORE_CAMPAIGN__BUDGET_WINDOW_SECONDS": str(plan.window),
            "AIRFLOW__KORE_CAMPAIGN__BUDGET_SLACK_SECONDS": str(plan.slack),
        }
    )
    if plan.shared_budget:
        env["AIRFLOW__KORE_CAMPAIGN__BUDGET_STORE_URL"] = store
    return env


@contextlib.contextmanager
def deployment(plan: Plan, home: Path) -> Iterator[Deployment]:
    """PostgreSQL, Redis, the sandbox and every Airflow component, stopped whatever happens."""
    config = SandboxConfig(
        rate_limit_per_window=plan.budget,
        rate_limit_window_seconds=float(plan.window),
        preparing_seconds=1.0,
        send_interval_seconds=0.2,
        seed=plan.seed(),
    )
    with postgres_server() as database, redis_server() as redis, SandboxServer(config) as sandbox:
        broker = redis.url
        store = redis.url.rsplit("/", 1)[0] + "/1"
        env = _environment(plan, home, database, broker, store, sandbox)
        airflow = Deployment(home, env, plan=plan, database_url=database, sandbox=sandbox)
        try:
            airflow.cli("db", "migrate")
            airflow.start("api-server", "--workers", "1")
            airflow.start("scheduler")
            airflow.start("dag-processor")
            for n in (1, 2):
                airflow.start(
                    "celery",
                    *("worker", "--celery-hostname", f"worker{n}@%h", "--skip-serve-logs"),
                    *("--without-gossip", "--without-mingle"),
                    name=f"worker-{n}",
                )
            for n in (1, 2):
                airflow.start("triggerer", "--skip-serve-logs", name=f"triggerer-{n}")
                # One after the other, so that each triggerer's job id is known: ids grow.
                airflow.wait_for(
                    f"triggerer-{n} to register",
                    lambda n=n: (
                        _triggerer_jobs(airflow)[n - 1] if len(_triggerer_jobs(airflow)) >= n else None
                    ),
                    STARTUP_SECONDS,
                )
            airflow.wait_for(
                "the dag-processor to parse the DAG",
                lambda: airflow.query("SELECT 1 FROM dag WHERE dag_id = ? AND NOT is_paused", DAG_ID) or None,
                STARTUP_SECONDS,
            )
            yield airflow
        finally:
            airflow.stop()


def _triggerer_jobs(airflow: Deployment) -> list[int]:
    return [
        row[0]
        for row in airflow.query(
            "SELECT id FROM job WHERE job_type = 'TriggererJob' AND state = 'running' ORDER BY id"
        )
    ]


def _runs_in(airflow: Deployment, component: str) -> bool:
    """Whether a task instance is running inside ``component``'s process tree."""
    pids = set(descendants(airflow.procs[component].pid))
    running = airflow.query("SELECT pid FROM task_instance WHERE dag_id = ? AND state = 'running'", DAG_ID)
    return any(pid in pids for (pid,) in running)


def _claims(airflow: Deployment) -> Counter[int] | None:
    """How many waits each triggerer holds, once every wait is deferred and claimed."""
    rows = airflow.query(
        "SELECT t.triggerer_id FROM task_instance ti LEFT JOIN trigger t ON t.id = ti.trigger_id "
        "WHERE ti.dag_id = ? AND ti.task_id = 'wait_for_completion' AND ti.state = 'deferred'",
        DAG_ID,
    )
    if len(rows) < airflow.plan.campaigns or any(job is None for (job,) in rows):
        return None
    return Counter(job for (job,) in rows)


@contextlib.contextmanager
def campaigns_held_active(sandbox: SandboxServer) -> Iterator[None]:
    """Make every read report a campaign Active from when it really is until the block ends.

    So every wait really defers to a triggerer, and the triggerers keep polling (spending the
    budget) until the test lets the real status, Completed by then, show through.
    """
    admin, held, done = sandbox.admin, set(), threading.Event()

    def hold() -> None:
        while not done.wait(0.2):
            for campaign in admin.campaigns()["campaigns"]:
                if campaign["status"] == "Active" and campaign["id"] not in held:
                    admin.force_status(campaign["id"], "Active")
                    held.add(campaign["id"])

    holder = threading.Thread(target=hold, name="hold-active", daemon=True)
    holder.start()
    try:
        yield
    finally:
        done.set()
        holder.join(timeout=10)
        for campaign_id in held:
            admin.force_status(campaign_id, None)


def run_campaigns(airflow: Deployment) -> Figures:
    """Trigger the DAG, cause the chaos the plan asks for, wait for the end, gather the figures.

    Chaos: SIGKILL worker-1 once it runs a task; once every wait has deferred, SIGKILL the
    triggerer holding the most of them, and wait until the other one has claimed them all.
    """
    plan = airflow.plan
    began = time.time()
    moved = 0
    with campaigns_held_active(airflow.sandbox):
        airflow.cli("dags", "trigger", DAG_ID)
        if plan.chaos:
            airflow.wait_for(
                "a task running in worker-1", lambda: _runs_in(airflow, "worker-1") or None, RUN_SECONDS
            )
            airflow.kill("worker-1")
        claims = airflow.wait_for("every wait to defer to a triggerer", lambda: _claims(airflow), RUN_SECONDS)
        if plan.chaos:
            jobs = _triggerer_jobs(airflow)
            busiest, moved = claims.most_common(1)[0]
            airflow.kill(f"triggerer-{jobs.index(busiest) + 1}")

            def taken_over() -> Counter[int] | None:
                now = _claims(airflow)
                return now if now and busiest not in now else None

            airflow.wait_for("the other triggerer to take over every wait", taken_over, RUN_SECONDS)
    state = airflow.wait_for_run_end(DAG_ID, RUN_SECONDS)
    seconds = time.time() - began
    return _figures(airflow, state, seconds, moved)


def _figures(airflow: Deployment, state: str, seconds: float, moved: int) -> Figures:
    plan, admin = airflow.plan, airflow.sandbox.admin
    requests = admin.requests()
    times = sorted(datetime.fromisoformat(r["time"].replace("Z", "+00:00")).timestamp() for r in requests)

    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    creates = Counter(
        r["body"]["name"]
        for r in requests
        if r["method"] == "POST"
        and r["path"].endswith("/campaign")
        and isinstance(r.get("body"), dict)
        and r["status"] is not None
        and 200 <= r["status"] < 300
    )
    summary = admin.campaigns()
    tasks = airflow.query("SELECT state, try_number FROM task_instance WHERE dag_id = ?", DAG_ID)
    return Figures(
        seconds=seconds,
        run_state=state,
        task_states=Counter(state for state, _ in tasks),
        tries=Counter(tries for _, tries in tasks),
        calls=len(requests),
        refused=sum(1 for r in requests if r["status"] == 429),
        busiest_window=busiest_window(times, plan.window),
        # The budget's own window (widened by the slack), plus a second for delays on the way.
        busiest_budget_span=busiest_window(times, plan.window + plan.slack + 1),
        calls_per_window=len(times) / span * plan.window if span else 0.0,
        creates_per_name=creates,
        texts_per_phone=Counter(m["phone"] for m in admin.messages()),
        expected_phones=sorted(phone for n in range(1, plan.campaigns + 1) for phone in plan.phones(n)),
        campaign_statuses=Counter(c["status"] for c in summary["campaigns"]),
        campaign_names=Counter(c["name"] for c in summary["campaigns"]),
        lineage_campaigns=_lineage_campaigns(airflow.home / LINEAGE_FILE),
        killed=sorted(airflow.killed),
        moved_triggers=moved,
    )


def _lineage_campaigns(path: Path) -> Counter[str]:
    """The campaign names (the last part of a Kore dataset's name) the create tasks reported."""
    names: Counter[str] = Counter()
    lines = path.read_text().splitlines() if path.exists() else []
    for event in map(json.loads, lines):
        if event.get("eventType") != "COMPLETE" or event["job"]["name"] != f"{DAG_ID}.create_campaign":
            continue
        for dataset in event.get("outputs", []):
            if dataset["namespace"].startswith("kore://") and "/campaign/" in dataset["name"]:
                names[dataset["name"].rsplit("/campaign/", 1)[1]] += 1
    return names


def run_plan(plan: Plan, home: Path) -> Figures:
    """Start a deployment for ``plan``, run the campaigns once, stop everything."""
    with deployment(plan, home) as airflow:
        return run_campaigns(airflow)
