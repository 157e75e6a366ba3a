"""Run a DAG against a fresh local sandbox in a throwaway Airflow home, and summarize what Kore saw.

What ``make demo`` runs; use it for your own DAGs too::

    python -m airflow_campaign_provider.sandbox.run_dag kore_campaign_weekly_lifecycle \\
        --dags-folder example_dags --seed example_dags/data/sandbox_seed.json

It starts a sandbox in a child process (the realistic settings: 60 requests a minute, a few
seconds in ``Preparing``, one SMS a second), points ``kore_campaign_default`` at it, makes a
throwaway ``AIRFLOW_HOME`` with SQLite (``airflow db migrate``), runs the DAG once with
``airflow dags test`` (through :mod:`.dag_test`, which reads the task states from the ``DagRun``
Airflow recorded), and prints a short summary from the sandbox's own record: the campaigns
created, the statuses they went through, the SMS sent, the API calls and what was left behind.
While the DAG runs it prints each task's state as it changes and, on long waits, the messages
sent and calls made (:mod:`.progress`). The sandbox is stopped whatever happens, unless
``--keep-sandbox`` keeps it up (with its page at ``/_sandbox``) until Ctrl-C. The exit status
is 0 only when the DAG run succeeded. Airflow's own output goes to ``run.log`` in the Airflow
home, which is kept when the run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from airflow_campaign_provider.sandbox import calling_hours
from airflow_campaign_provider.sandbox.config import SandboxConfig, load_seed
from airflow_campaign_provider.sandbox.progress import Progress, parse_event
from airflow_campaign_provider.sandbox.server import DEFAULT_CONN_ID, SandboxServer, conn_env_name

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from airflow_campaign_provider.sandbox.admin import SandboxAdmin

DEFAULT_DAG_ID = "kore_campaign_weekly_lifecycle"
#: How often the examples read a campaign's status here (their own default is for real campaigns).
DEFAULT_POLL_SECONDS = 1.0
#: How often the watcher samples the sandbox's campaigns, to record the statuses they go through.
WATCH_INTERVAL_SECONDS = 0.2
MIGRATE_TIMEOUT_SECONDS = 300.0
DAG_TIMEOUT_SECONDS = 600.0
#: Runs ``airflow dags test`` and writes the run's task states from Airflow's ``DagRun``.
DAG_TEST_MODULE = "airflow_campaign_provider.sandbox.dag_test"
#: Environment variables of the caller's Airflow that must not leak into the throwaway one.
_AIRFLOW_ENV = re.compile(r"AIRFLOW__|AIRFLOW_CONN_|AIRFLOW_VAR_|AIRFLOW_HOME$|AIRFLOW_CONFIG$")
#: A Python exception line, as a traceback ends: ``package.module.SomeError: what went wrong``.
_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout): \S")
DELETED = "deleted"
#: Statuses in which a campaign left behind may still text or call someone.
_RUNNING = frozenset({"Preparing", "Ready", "Active", "Scheduled"})
#: The summary's word for each sandbox operation (``trigger_campaign`` is named by its trigger).
#: The routes that play or stop a campaign, one per path shape Kore's pages write.
_TRIGGER_OPERATIONS = frozenset({"trigger_campaign", "start_sms_campaign", "trigger_voice_campaign"})
_KINDS = {
    "create_sms_campaign": "create",
    "get_campaign": "read",
    "campaign_status": "status",
    "list_campaigns": "list",
    "delete_campaign": "delete",
}


# --------------------------------------------------------------------------- reading the record
def request_kind(record: Mapping[str, Any]) -> str:
    """What a Kore request did, from the operation the sandbox logged for it: ``create``,
    ``status``, ``read``, ``list``, ``play``, ``stop``, ``delete``, another operation's name, or
    ``METHOD path`` for a request that matched none."""
    operation = record.get("operation")
    if not operation:
        return f"{record['method']} {record['path']}"
    if operation in _TRIGGER_OPERATIONS:
        return dict(parse_qsl(str(record.get("query") or ""))).get("trigger") or "trigger"
    return _KINDS.get(operation, operation)


def request_campaign_id(record: Mapping[str, Any]) -> str | None:
    """The campaign a request was about, when its path names one."""
    return (record.get("pathParams") or {}).get("campaignId")


@dataclass
class CampaignRecord:
    """One campaign as the sandbox saw it during the run."""

    campaign_id: str
    name: str
    statuses: list[str] = field(default_factory=list)
    contact_lists: list[str] = field(default_factory=list)
    dnc_list: str | None = None
    messages: list[str] = field(default_factory=list)
    campaign_type: str = "sms"
    #: How many contacts its runs were to reach (its lists minus DNC, each once), as the sandbox
    #: counted them when it started: right for seeded lists and lists filled through the API alike.
    due: int = 0
    #: Stopped by a stop call of the run, not left running by accident.
    stopped_on_purpose: bool = False
    calling_hours: dict[str, Any] | None = None
    #: When the first message went out outside its calling hours (hours not enforced), if one did.
    first_sent_outside: float | None = None

    @property
    def deleted(self) -> bool:
        """Whether the campaign was deleted before the run ended."""
        return bool(self.statuses) and self.statuses[-1] == DELETED


class StatusWatcher:
    """Samples the sandbox's live campaigns in a thread and records each one's status changes.

    The admin endpoints are outside Kore's rate limit and request log, so watching costs the DAG
    nothing. A campaign that disappears from the live list was deleted.
    """

    def __init__(
        self,
        admin: SandboxAdmin,
        interval: float = WATCH_INTERVAL_SECONDS,
        on_sample: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self._admin = admin
        self._interval = interval
        self._on_sample = on_sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kore-status-watcher", daemon=True)
        self.campaigns: dict[str, CampaignRecord] = {}

    def __enter__(self) -> StatusWatcher:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if exc_type is None:  # the final state, after the last task (not after a Ctrl-C)
            self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sample()
            except Exception:  # a sample lost to a busy sandbox is retried at the next tick
                continue

    def sample(self) -> None:
        """Record the status of every live campaign, and mark the ones gone since as deleted."""
        items = self._admin.campaigns()["campaigns"]
        live = {item["id"]: item for item in items}
        for campaign_id, item in live.items():
            record = self.campaigns.setdefault(campaign_id, CampaignRecord(campaign_id, str(item["name"])))
            history = [str(h["status"]) for h in item.get("history") or ()]
            if history:  # the sandbox's own record: no status missed between two samples
                record.statuses = [s for k, s in enumerate(history) if k == 0 or history[k - 1] != s]
            elif not record.statuses or record.statuses[-1] != item["status"]:
                record.statuses.append(str(item["status"]))
            record.contact_lists = list(item.get("contactLists") or ())
            record.dnc_list = item.get("dncList")
            record.campaign_type = str(item.get("campaignType") or "sms")
            record.due = int(item.get("due") or 0)
            record.calling_hours = item.get("callingHours")
        for campaign_id, record in self.campaigns.items():
            if campaign_id not in live and not record.deleted:
                record.statuses.append(DELETED)
        if self._on_sample is not None:
            self._on_sample(items)


@dataclass
class RunSummary:
    """What one DAG run did, from the ``DagRun`` Airflow recorded and the sandbox's record."""

    dag_id: str
    state: str
    seconds: float
    tasks: list[tuple[str, int, str]]
    campaigns: list[CampaignRecord]
    calls: Counter[str]
    rate_limited: int
    left_behind: list[str]
    deferred: set[str] = field(default_factory=set)
    #: The first line of each failed task instance's error, by its label.
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def failed_tasks(self) -> list[str]:
        """Task instances that did not succeed (a failed teardown does not fail an Airflow run)."""
        return [
            task_id if map_index < 0 else f"{task_id}[{map_index}]"
            for task_id, map_index, state in self.tasks
            if state not in ("success", "skipped")
        ]

    @property
    def succeeded(self) -> bool:
        """Whether the DAG run succeeded with every task instance successful or skipped."""
        return self.state == "success" and not self.failed_tasks


def collect(
    dag_id: str,
    state: str,
    seconds: float,
    tasks: list[tuple[str, int, str]],
    watched: Mapping[str, CampaignRecord],
    admin: SandboxAdmin,
) -> RunSummary:
    """Put the run's summary together from the watcher's records and the sandbox's record."""
    requests = admin.requests()
    campaigns = dict(watched)
    stopped = {
        request_campaign_id(r) for r in requests if request_kind(r) == "stop" and r.get("status") == 200
    }
    for watched_record in campaigns.values():
        watched_record.stopped_on_purpose = watched_record.campaign_id in stopped
    for message in admin.messages():
        record = campaigns.get(message["campaignId"])
        if record is None:
            continue
        record.messages.append(message["phone"])
        sent_at = datetime.fromisoformat(str(message["sentAt"]).replace("Z", "+00:00")).timestamp()
        hours = record.calling_hours
        if record.first_sent_outside is None and hours and not calling_hours.is_open(hours, sent_at):
            record.first_sent_outside = sent_at
    live = [c["id"] for c in admin.campaigns()["campaigns"]]
    ordered = sorted(campaigns.values(), key=lambda c: c.name)
    return RunSummary(
        dag_id=dag_id,
        state=state,
        seconds=seconds,
        tasks=tasks,
        campaigns=ordered,
        calls=Counter(request_kind(r) for r in requests),
        rate_limited=sum(1 for r in requests if r.get("status") == 429),
        left_behind=live,
    )


# --------------------------------------------------------------------------- printing it
def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def format_summary(summary: RunSummary) -> str:
    """The human summary ``make demo`` prints."""
    lines = ["", "Tasks"]
    width = max((len(task_id) for task_id, _, _ in summary.tasks), default=0)
    for task_id, map_index, state in summary.tasks:
        label = task_id if map_index < 0 else f"{task_id}[{map_index}]"
        note = " (deferred to the trigger, then resumed)" if task_id in summary.deferred else ""
        lines.append(f"  {label:<{width + 4}} {state}{note}")
    if not summary.campaigns:
        lines += ["", "No campaign was created."]
    for campaign in summary.campaigns:
        lines += ["", f'Campaign "{campaign.name}" ({campaign.campaign_id})']
        lines.append(f"  statuses seen  {' → '.join(campaign.statuses)}")
        label = "calls made" if campaign.campaign_type == "voice" else "SMS sent"
        lines.append(f"  {label:<14} {_sms_line(campaign)}")
        if campaign.first_sent_outside is not None and campaign.calling_hours:
            lines.append(
                f"  calling hours  {_outside_note(campaign.calling_hours, campaign.first_sent_outside)}"
            )
    calls = ", ".join(f"{count} {kind}" for kind, count in summary.calls.most_common())
    limited = (
        f"{_plural(summary.rate_limited, 'answer')} 429 (rate limit)"
        if summary.rate_limited
        else "none rate-limited"
    )
    records = {c.campaign_id: c for c in summary.campaigns}
    kept = [i for i in summary.left_behind if i in records and records[i].stopped_on_purpose]
    left_ids = [i for i in summary.left_behind if i not in kept]
    if left_ids:
        left = ", ".join(_left_note(i, records.get(i)) for i in left_ids)
    elif kept:
        left = "nothing running (the stopped campaigns below stay, as asked)"
    else:
        left = "nothing (every campaign deleted)" if summary.campaigns else "nothing"
    lines += [
        "",
        f"Kore.ai API calls  {sum(summary.calls.values())}: {calls}; {limited}"
        if calls
        else "Kore.ai API calls  none",
        f"Left in Kore.ai    {left}",
        *([f"Stopped on purpose {', '.join(kept)} (still in Kore.ai, sending nothing)"] if kept else []),
        "",
        f"DAG run {summary.dag_id}: {summary.state.upper()} in {summary.seconds:.0f} s"
        + (f"; not successful: {', '.join(summary.failed_tasks)}" if summary.failed_tasks else ""),
    ]
    return "\n".join(lines)


def _outside_note(hours: Mapping[str, Any], sent_at: float) -> str:
    """What Kore would have done with a message the sandbox sent outside the calling hours."""
    zone = ZoneInfo(str(hours["timezone"]))
    opens = calling_hours.next_open(hours, sent_at)
    local = datetime.fromtimestamp(sent_at, zone).strftime("%a %H:%M")
    wait = datetime.fromtimestamp(opens, zone).strftime("%a %H:%M") if opens is not None else "never"
    return (
        f"sent from {local} {hours['timezone']}, outside them: Kore would have waited until {wait} "
        "(--calling-hours enforce does)"
    )


def _left_note(campaign_id: str, record: CampaignRecord | None) -> str:
    status = record.statuses[-1] if record and record.statuses else None
    if status in _RUNNING:
        return f"{campaign_id} ({status}: STILL RUNNING)"
    return f"{campaign_id} ({status})" if status else campaign_id


def _sms_line(campaign: CampaignRecord) -> str:
    sent = Counter(campaign.messages)
    twice = sorted(phone for phone, count in sent.items() if count > 1)
    lists = " + ".join(f'"{name}"' for name in campaign.contact_lists)
    if lists:
        audience = f"list {lists}" + (f' minus DNC list "{campaign.dnc_list}"' if campaign.dnc_list else "")
    else:
        audience = "seeded, with no contact list"
    due = campaign.due
    if not twice and due and len(sent) == due:
        return f"{len(campaign.messages)}, exactly one to each of the {due} contacts due ({audience})"
    if not due and not sent:
        never = " (never started)" if "Active" not in campaign.statuses else ""
        return f"none{never} ({audience})"
    text = f"{len(campaign.messages)} to {len(sent)} of the {due} contacts due ({audience})"
    if twice:
        text += f"; TEXTED MORE THAN ONCE: {', '.join(twice)}"
    return text


# --------------------------------------------------------------------------- running Airflow
def airflow_env(home: Path, dags_folder: Path, connection_json: str, poll_seconds: float) -> dict[str, str]:
    """The environment of the throwaway Airflow: this process's, minus any Airflow settings."""
    env = {name: value for name, value in os.environ.items() if not _AIRFLOW_ENV.match(name)}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            conn_env_name(DEFAULT_CONN_ID): connection_json,
            "KORE_EXAMPLE_POLL_SECONDS": f"{poll_seconds:g}",
        }
    )
    return env


def run_airflow(
    args: Sequence[str], env: Mapping[str, str], log: IO[str], timeout: float, echo: IO[str] | None = None
) -> int:
    """Run ``airflow <args>`` in its own process group; its exit code.

    Its output is appended to ``log`` (and copied to ``echo`` as it comes). Past ``timeout``
    seconds, or on Ctrl-C, the whole group is killed.
    """
    return run_python_module("airflow", args, env, log, timeout, echo)


def run_python_module(
    module: str,
    args: Sequence[str],
    env: Mapping[str, str],
    log: IO[str],
    timeout: float,
    echo: IO[str] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """``python -m <module> <args>`` as :func:`run_airflow` runs Airflow; ``on_event`` gets each
    task event line (:mod:`.progress`) it writes."""
    log.write(f"\n$ python -m {module} {' '.join(args)}\n")
    log.flush()
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
        errors="replace",
    )
    pump = threading.Thread(
        target=_copy_lines, args=(proc, log, echo, on_event), name="airflow-output", daemon=True
    )
    pump.start()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.write(f"\n[run_dag] {module} {' '.join(args[:2])} took more than {timeout:g} s; killed.\n")
        return -1
    finally:
        kill_process_group(proc)
        pump.join(timeout=10)


def _copy_lines(
    proc: subprocess.Popen[str],
    log: IO[str],
    echo: IO[str] | None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Copy a child's output to the log file (and to ``echo``) until it closes; hand task event
    lines to ``on_event`` instead of echoing them."""
    assert proc.stdout is not None
    for line in proc.stdout:
        log.write(line)
        event = parse_event(line) if on_event is not None else None
        if event is not None and on_event is not None:
            on_event(event)
        elif echo is not None:
            echo.write(line)
    log.flush()


def kill_process_group(proc: subprocess.Popen[Any]) -> None:
    """End a child started with ``start_new_session`` and everything it started."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
            time.sleep(0.1)  # let the group's other members go too
        except subprocess.TimeoutExpired:
            continue


def read_run_result(result_file: Path) -> tuple[str, list[tuple[str, int, str]], set[str]]:
    """The DAG run's state, its task instances and the tasks that deferred, as ``dag_test`` wrote
    them from Airflow's ``DagRun`` (``not run`` when it wrote nothing, e.g. it was killed)."""
    if not result_file.exists():
        return "not run", [], set()
    result = json.loads(result_file.read_text(encoding="utf-8"))
    return str(result["state"]), ordered_tasks(result["tasks"]), set(result["deferred"])


def ordered_tasks(rows: Sequence[Sequence[Any]]) -> list[tuple[str, int, str]]:
    """``(task_id, map_index, state)`` from ``[task_id, map_index, state, start]`` rows, in the
    order the tasks first started (never-started last); a mapped task's instances by map index."""
    first_start: dict[str, str] = {}
    for task_id, _, _, start in rows:
        if start is not None and (task_id not in first_start or start < first_start[task_id]):
            first_start[task_id] = start
    ordered = sorted(
        rows, key=lambda row: (row[0] not in first_start, first_start.get(row[0], ""), row[0], row[1])
    )
    return [(str(t), int(m), str(s or "no status")) for t, m, s, _ in ordered]


@dataclass
class DemoOptions:
    """What to run and how."""

    dag_id: str = DEFAULT_DAG_ID
    dags_folder: Path = Path("example_dags")
    seed: Path | None = None
    conf: dict[str, Any] | None = None
    poll_seconds: float = DEFAULT_POLL_SECONDS
    keep_home: bool = False
    keep_sandbox: bool = False
    verbose: bool = False
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)


def run_dag(
    options: DemoOptions, out: IO[str] = sys.stdout, wait: Callable[[], None] | None = None
) -> RunSummary:
    """Run one DAG against a fresh sandbox in a throwaway Airflow home; print and return its summary.

    With ``options.keep_sandbox`` the sandbox stays up after the summary, its page's address
    printed, until ``wait`` returns (by default: until Ctrl-C or SIGTERM)."""
    dags_folder = options.dags_folder.resolve()
    if not dags_folder.is_dir():
        raise FileNotFoundError(f"the DAGs folder {dags_folder} does not exist (see --dags-folder)")
    config = options.sandbox
    if options.seed is not None:
        config = replace(config, seed=load_seed(options.seed))
    home = Path(tempfile.mkdtemp(prefix="kore-demo-airflow-home-"))
    state = "failed"
    say = _Printer(out)
    say(f"Running DAG {options.dag_id} against a local Kore.ai sandbox")
    try:
        with SandboxServer(config, subprocess=True) as server, (home / "run.log").open("w") as log:
            say(f"  sandbox       {server.url}  ({_sandbox_settings(config)})")
            say(f"  Airflow home  {home} (throwaway, SQLite)")
            say(f"  watch it      {server.url}/_sandbox")
            env = airflow_env(home, dags_folder, server.connection_json(), options.poll_seconds)
            echo = out if options.verbose else None
            pending = "\n" if options.verbose else ""  # Airflow's output follows at once when verbose
            started = time.monotonic()
            say("  airflow db migrate …", end=pending)
            if run_airflow(["db", "migrate"], env, log, MIGRATE_TIMEOUT_SECONDS, echo) != 0:
                say(f" FAILED ({time.monotonic() - started:.0f} s); see {home / 'run.log'}")
                return _empty_summary(options.dag_id, "db migrate failed", time.monotonic() - started)
            say(f" done ({time.monotonic() - started:.0f} s)")
            say(f"  airflow dags test {options.dag_id} …", end=pending)
            result_file = home / "run.json"
            args = [options.dag_id, str(result_file)]
            if options.conf is not None:
                args += ["--conf", json.dumps(options.conf)]
            started = time.monotonic()
            progress = Progress(out)
            errors: dict[str, str] = {}

            def on_event(event: dict[str, Any]) -> None:
                if event.get("state") == "failed" and event.get("error"):
                    index = int(event.get("map_index", -1))
                    label = str(event["task_id"]) + (f"[{index}]" if index >= 0 else "")
                    errors[label] = str(event["error"]).splitlines()[0]
                if not options.verbose:
                    progress.event(event)

            say.close_line()
            with StatusWatcher(
                _watch_admin(server), on_sample=None if options.verbose else progress.sample
            ) as watcher:
                code = run_python_module(DAG_TEST_MODULE, args, env, log, DAG_TIMEOUT_SECONDS, echo, on_event)
            progress.close()
            seconds = time.monotonic() - started
            state, tasks, deferred = read_run_result(result_file)
            if code != 0 and state == "success":
                state = "failed"
            say(f"  airflow dags test {options.dag_id}: {state} ({seconds:.0f} s)")
            summary = collect(options.dag_id, state, seconds, tasks, watcher.campaigns, server.admin)
            summary.deferred = deferred
            summary.errors = errors
            say(format_summary(summary))
            if not summary.succeeded:
                _print_errors(home / "run.log", out, summary.errors)
            if options.keep_sandbox:
                say(
                    f"\nThe sandbox is still up: {server.url}/_sandbox (its page), {server.url}/docs (its API)."
                )
                say("Press Ctrl-C to stop it.")
                try:
                    (wait or _wait_for_interrupt)()
                except KeyboardInterrupt:  # the way out asked for: the run's own result stands
                    say("\nStopping the sandbox.")
        return summary
    finally:
        if state == "success" and not options.keep_home:
            shutil.rmtree(home, ignore_errors=True)
        else:
            say.close_line()
            say(f"Airflow home kept: {home}")


def _wait_for_interrupt() -> None:
    """Sleep until Ctrl-C or SIGTERM (both raise ``KeyboardInterrupt`` in :func:`main`)."""
    while True:
        time.sleep(3600)


def _empty_summary(dag_id: str, state: str, seconds: float) -> RunSummary:
    return RunSummary(dag_id, state, seconds, [], [], Counter(), 0, [])


def _watch_admin(server: SandboxServer) -> SandboxAdmin:
    """A second admin client, for the watcher thread alone."""
    from airflow_campaign_provider.sandbox.admin import SandboxAdmin

    return SandboxAdmin(server.url, timeout=5.0)


def _sandbox_settings(config: SandboxConfig) -> str:
    limit = (
        f"{config.rate_limit_per_window} requests per {config.rate_limit_window_seconds:g} s"
        if config.rate_limit_per_window
        else "no rate limit"
    )
    sms = f"an SMS every {config.send_interval_seconds:g} s"
    hours = "calling hours enforced" if config.enforce_calling_hours else "calling hours not enforced"
    return f"{limit}, {config.preparing_seconds:g} s in Preparing, {sms}, {hours}"


class _Printer:
    """Progress lines on ``out``; it knows whether the last one was left open (``end=""``)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.open_line = False

    def __call__(self, text: str, end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()
        self.open_line = not end

    def close_line(self) -> None:
        """End a line left open, e.g. by an interruption."""
        if self.open_line:
            self("")


def _print_errors(
    log_file: Path, out: IO[str], task_errors: Mapping[str, str] | None = None, most: int = 5
) -> None:
    """The errors that failed the run: each failed task's own, then those in Airflow's output
    (a DAG file that failed to import has no task), or the output's end when none is found."""
    if task_errors:
        out.write(
            "\nFailed tasks\n" + "\n".join(f"  {task}: {error}" for task, error in task_errors.items()) + "\n"
        )
    if not log_file.exists():
        return
    lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = list(dict.fromkeys(line for line in lines if _ERROR_LINE.match(line)))[-most:]
    if task_errors and errors:
        errors = [line for line in errors if not any(error in line for error in task_errors.values())]
    if errors:
        out.write("\nErrors\n" + "\n".join(f"  {line}" for line in errors) + "\n")
    else:
        out.write("\nThe end of Airflow's output:\n" + "\n".join(lines[-20:]) + "\n")
    out.write(f"All of Airflow's output: {log_file}\n")


# --------------------------------------------------------------------------- command line
EXAMPLES_URL = "https://github.com/kore-campaigns/airflow-campaign-provider/tree/main/example_dags"


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="python -m airflow_campaign_provider.sandbox.run_dag",
        description="Run a DAG once against a fresh local Kore.ai sandbox and summarize what it did.",
    )
    p.add_argument("dag_id", nargs="?", default=DEFAULT_DAG_ID, help=f"default: {DEFAULT_DAG_ID}")
    p.add_argument("--dags-folder", type=Path, default=Path("example_dags"), help="default: example_dags")
    p.add_argument(
        "--seed",
        type=Path,
        help="sandbox seed JSON (default: <dags folder>/data/sandbox_seed.json if present)",
    )
    p.add_argument("--conf", type=json.loads, help="the DAG run's conf, as JSON")
    p.add_argument(
        "--poll-seconds",
        type=float,
        default=DEFAULT_POLL_SECONDS,
        help="KORE_EXAMPLE_POLL_SECONDS for the example DAGs",
    )
    p.add_argument("--preparing-seconds", type=float, default=2.0, help="sandbox: Preparing -> Ready delay")
    p.add_argument("--send-interval", type=float, default=1.0, help="sandbox: seconds between two SMS")
    p.add_argument("--rate-limit", type=int, default=60, help="sandbox: requests per minute; 0 = off")
    p.add_argument(
        "--calling-hours",
        choices=("enforce", "ignore"),
        default="ignore",
        help="sandbox: send only inside each campaign's calling hours, as Kore does (enforce), or at "
        "once (ignore, the default: a run finishes at any hour; the summary says what Kore would do)",
    )
    p.add_argument("--keep-home", action="store_true", help="keep the Airflow home even after a success")
    p.add_argument(
        "--keep-sandbox",
        action="store_true",
        help="keep the sandbox up after the run (its page at /_sandbox) until Ctrl-C",
    )
    p.add_argument("--verbose", action="store_true", help="show Airflow's output as it runs")
    return p


def options_from_args(argv: Sequence[str] | None = None) -> DemoOptions:
    """The DemoOptions a command line asks for."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.dags_folder.is_dir():
        parser.error(
            f"no DAGs folder {args.dags_folder.resolve()}; pass --dags-folder DIR. The example DAGs "
            f"are not in the installed package; they are in the source repository: {EXAMPLES_URL}"
        )
    seed = args.seed
    if seed is None and (args.dags_folder / "data" / "sandbox_seed.json").exists():
        seed = args.dags_folder / "data" / "sandbox_seed.json"
    return DemoOptions(
        dag_id=args.dag_id,
        dags_folder=args.dags_folder,
        seed=seed,
        conf=args.conf,
        poll_seconds=args.poll_seconds,
        keep_home=args.keep_home,
        keep_sandbox=args.keep_sandbox,
        verbose=args.verbose,
        sandbox=SandboxConfig(
            rate_limit_per_window=args.rate_limit or None,
            preparing_seconds=args.preparing_seconds,
            send_interval_seconds=args.send_interval,
            enforce_calling_hours=args.calling_hours == "enforce",
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the DAG; 0 when its run and every task succeeded, 1 otherwise, 2 when a file it needs
    is missing, 130 when interrupted."""
    options = options_from_args(argv)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGINT too: a job started in the background inherits it ignored.
    previous = {sig: signal.signal(sig, interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        summary = run_dag(options)
    except KeyboardInterrupt:
        print("\nInterrupted; the sandbox and Airflow were stopped.", file=sys.stderr)
        return 130
    except FileNotFoundError as missing:  # the DAGs folder or the seed: a message, not a traceback
        print(f"run_dag: {missing}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if summary.succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
