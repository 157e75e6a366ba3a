"""Fifty campaign lifecycles against a sandbox that fails on purpose, and what survived.

Each lifecycle is create, start, wait, stop and delete, run through the provider's operators,
sensor and trigger as Airflow runs them (fresh operator per try, ``retries=3``, deferrals handed
to one shared triggerer loop). The sandbox, in its own process, answers 20% of requests with a
503, drops 5% of connections, delays 3% by a 2 s spike (longer than the 1.5 s read timeout the
hooks use here, so each spike is an answer lost *after* Kore acted on the request), starts with a
burst of 429s, and a chaos thread opens a 4-requests-per-second rate-limit window now and then.

The promise checked afterwards, from the sandbox's own records:

* every lifecycle ends in the right state, and no task failed for good;
* one campaign per name was ever created and one play per campaign ever acted on: zero duplicates;
* every contact got at most one SMS, and every contact of a completed campaign got exactly one;
* no campaign and no trigger poller is left behind.

Time is scaled, not faked: the retry policy waits 1/10 of Kore's figures (``Retry-After`` is
honoured in full, up to 2 s) and the operators' pauses pass 2.5 times faster. The spikes are real
2 s. Randomness is seeded (faults, chaos schedule, back-off jitter); which request meets which
fault still depends on thread scheduling, so the counts vary a little from run to run while
every invariant must hold for any interleaving.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import RetryPolicy
from airflow_campaign_provider.exceptions import (
    CampaignError,
    CampaignRateLimitError,
    CampaignServerError,
    CampaignTransportError,
)
from airflow_campaign_provider.hooks.campaign import CampaignHook, CampaignHookBase
from airflow_campaign_provider.hooks.campaign_async import CampaignAsyncHook
from airflow_campaign_provider.lifecycle import create as create_module
from airflow_campaign_provider.operators.campaign import (
    CreateSmsCampaignOperator,
    DeleteCampaignOperator,
    StartCampaignOperator,
    StopCampaignOperator,
)
from airflow_campaign_provider.sandbox import FaultConfig, SandboxConfig, SandboxServer, Seed, Template
from airflow_campaign_provider.sandbox.faults import FaultInjector
from airflow_campaign_provider.sandbox.run_dag import request_kind
from airflow_campaign_provider.sandbox.seed import WELCOME_BODY
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor
from airflow_campaign_provider.triggers.poller import PollerOptions

from .conftest import add_figures
from .harness import (
    FakeTaskInstance,
    Tally,
    Triggerer,
    run_task,
    running_triggerer,
    settled_requests,
    task_context,
    use_hook_settings,
)

SEED = 20260607
LIFECYCLES = 50
WORKERS = 8
#: Airflow's ``retries=3``: four tries per task.
TRIES = 4
FAULTS = FaultConfig(
    error_rate=0.20,
    error_status=503,
    drop_rate=0.05,
    spike_rate=0.03,
    spike_seconds=2.0,
    burst_429=12,
    random_seed=SEED,
)
#: Connect and read timeouts of every hook here: a 2 s spike outlasts the read timeout.
TIMEOUT = (2.0, 1.5)
#: The default policy's shape at 1/10 of its waits; Kore's 60 s rate window scaled to 1 s.
SCALED_RETRIES = RetryPolicy(
    max_attempts=6,
    base_wait_seconds=0.1,
    max_wait_seconds=3.0,
    rate_limit_window_seconds=1.0,
    max_retry_after_seconds=2.0,
    max_total_seconds=30.0,
)
#: The operators' own pauses (status polls, the re-check after an unanswered create or play).
OPERATOR_TIME_SCALE = 0.4
#: A rate-limit window of this many requests per second opens every few seconds, for a second.
RATE_WINDOW_REQUESTS = 4
CONTACTS_PER_LIST = 20  # about 1 s of sending; the last of each list is on the DNC list
STOP_LIST_CONTACTS = 1000  # 50 s of sending: far longer than any stop takes to arrive
SEND_INTERVAL = 0.05
DNC_LIST = "Reliability DNC"

#: What a retry may follow; anything else is a bug.
TRANSIENT = ("5xx", "429", "dropped", "timeout")
KINDS = ("wait in the worker", "sensor, poke", "deferred start", "deferred sensor", "stop mid-send")


#: How each kind of lifecycle starts its campaign; the others start it and go on.
START_ARGUMENTS: dict[str, dict[str, Any]] = {
    "wait in the worker": {"wait_for_completion": True, "poll_interval": 1.0, "timeout": 120},
    "deferred start": {"wait_for_completion": True, "deferrable": True, "poll_interval": 0.5, "timeout": 120},
}


def phone(lifecycle: int, contact: int) -> str:
    return f"+1555{lifecycle:03d}{contact:04d}"


@dataclass
class Lifecycle:
    index: int
    kind: str
    name: str
    contact_list: str
    due: set[str]
    results: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None


def plan() -> list[Lifecycle]:
    lifecycles = []
    for index in range(LIFECYCLES):
        kind = KINDS[index % len(KINDS)]
        size = STOP_LIST_CONTACTS if kind == "stop mid-send" else CONTACTS_PER_LIST
        due = {phone(index, contact) for contact in range(size - 1)}
        lifecycles.append(
            Lifecycle(index, kind, f"Reliability {SEED} #{index:02d}", f"Reliability list {index:02d}", due)
        )
    return lifecycles


def seed_data(lifecycles: list[Lifecycle]) -> Seed:
    contact_lists = {}
    for lc in lifecycles:
        size = STOP_LIST_CONTACTS if lc.kind == "stop mid-send" else CONTACTS_PER_LIST
        contact_lists[lc.contact_list] = [phone(lc.index, contact) for contact in range(size)]
    dnc = [phones[-1] for phones in contact_lists.values()]
    return Seed(
        contact_lists=contact_lists,
        dnc_lists={DNC_LIST: dnc},
        templates={"Welcome": Template(body=WELCOME_BODY, id="cmt-reliability")},
    )


def cause(error: BaseException | None) -> str:
    """A short name of what made a call fail: 5xx, 429, dropped, timeout, or the class name."""
    if isinstance(error, CampaignRateLimitError):
        return "429"
    if isinstance(error, CampaignServerError):
        return "5xx"
    if isinstance(error, CampaignTransportError):
        return "timeout" if "timed out" in str(error).lower() or "timeout" in str(error) else "dropped"
    if type(error) is CampaignError and str(error).startswith("Gave up"):
        return "gave up after 3 unanswered attempts"
    return type(error).__name__


@pytest.fixture
def tally(monkeypatch: pytest.MonkeyPatch) -> Tally:
    """Counts what the provider did: every retry of each hook, create and play outcomes, and how
    each unanswered create was settled. The wrappers count and call the real methods."""
    counts = Tally()
    log_retry = CampaignHookBase._log_retry

    def counting_log_retry(hook: CampaignHookBase, state: Any) -> None:
        side = "trigger" if isinstance(hook, CampaignAsyncHook) else "worker"
        counts.add(f"retry {side} {cause(state.outcome.exception() if state.outcome else None)}")
        log_retry(hook, state)

    monkeypatch.setattr(CampaignHookBase, "_log_retry", counting_log_retry)

    def outcomes(method: str) -> None:
        original = getattr(CampaignHook, method)

        def counted(hook: CampaignHook, *args: Any, **kwargs: Any) -> Any:
            try:
                result = original(hook, *args, **kwargs)
            except CampaignError as error:
                counts.add(f"{method} {cause(error)}")
                raise
            counts.add(f"{method} answered")
            return result

        monkeypatch.setattr(CampaignHook, method, counted)

    outcomes("create_sms_campaign")
    outcomes("start_campaign")
    lookup = create_module._lookup_after_ambiguity

    def counted_lookup(hook: CampaignHook, name: str, *args: Any) -> Any:
        found = lookup(hook, name, *args)
        counts.add("lookup found" if found is not None else "lookup absent")
        return found

    monkeypatch.setattr(create_module, "_lookup_after_ambiguity", counted_lookup)
    adopt = create_module._adopt

    def counted_adopt(hook: CampaignHook, spec: Any, found: Any, why: str) -> Any:
        counts.add(f"adopt {why}")
        return adopt(hook, spec, found, why)

    monkeypatch.setattr(create_module, "_adopt", counted_adopt)
    return counts


@pytest.fixture
def scaled_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The suite's hook settings for operators and sensor; the operators' pauses scaled down; the
    retry policy's jitter seeded (and the global generator put back afterwards)."""
    use_hook_settings(monkeypatch, timeout=TIMEOUT, retry_policy=SCALED_RETRIES)
    monkeypatch.setattr(clock, "sleep", lambda seconds: time.sleep(seconds * OPERATOR_TIME_SCALE))
    state = random.getstate()
    random.seed(SEED)
    yield
    random.setstate(state)


@pytest.fixture
def faulty_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SandboxServer, list[Lifecycle]]]:
    """A sandbox in its own process holding one contact list per lifecycle; faults still off."""
    lifecycles = plan()
    config = SandboxConfig(
        rate_limit_per_window=None,
        preparing_seconds=0.3,
        send_interval_seconds=SEND_INTERVAL,
        request_log_size=200_000,
        seed=seed_data(lifecycles),
    )
    with SandboxServer(config, subprocess=True) as server:
        for name, value in server.connection_env().items():
            monkeypatch.setenv(name, value)
        yield server, lifecycles


class RateLimitWindows:
    """A thread that opens a short rate-limit window at seeded moments: bursts of real 429s."""

    def __init__(self, server: SandboxServer, seed: int) -> None:
        from airflow_campaign_provider.sandbox.admin import SandboxAdmin

        self._admin = SandboxAdmin(server.url)
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self.opened = 0
        self._thread = threading.Thread(target=self._run, name="rate-limit-windows", daemon=True)

    def __enter__(self) -> RateLimitWindows:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._limit(None)
        self._admin.close()

    def _run(self) -> None:
        # Each pass waits at most 3.5 s for the stop signal: bounded by the test's own duration.
        while not self._stop.wait(self._random.uniform(2.0, 3.5)):
            self._limit(RATE_WINDOW_REQUESTS)
            self.opened += 1
            self._stop.wait(1.0)
            self._limit(None)

    def _limit(self, requests_per_second: int | None) -> None:
        """Set the rate limit; once more if the server closed the idle admin connection meanwhile."""
        for attempt in (1, 2):
            try:
                self._admin.update_config(
                    rate_limit_per_window=requests_per_second, rate_limit_window_seconds=1.0
                )
                return
            except httpx.TransportError:
                if attempt == 2:
                    raise


def create_operator(lc: Lifecycle) -> CreateSmsCampaignOperator:
    return CreateSmsCampaignOperator(
        task_id="create_campaign",
        name=lc.name,
        description=f"Lifecycle {lc.index} of the reliability suite ({lc.kind}).",
        contact_lists=[lc.contact_list],
        template_name="Welcome",
        message=WELCOME_BODY,
        caller_id="+14155550100",
        calling_hours={
            "frequency": "DAILY",
            "timezone": "Europe/Paris",
            "days": [{"day": day, "start": "8:00 AM", "end": "8:00 PM"} for day in ("MO", "TU", "WE")],
        },
        dnc_list=DNC_LIST,
        poll_interval=1.0,
        ready_timeout=120,
    )


def run_lifecycle(lc: Lifecycle, triggerer: Triggerer, tally: Tally) -> None:
    """Create, start, wait, stop and delete one campaign, each task with Airflow's retries."""

    def task(name: str, make: Callable[[], Any]) -> Any:
        ti = FakeTaskInstance()
        result = run_task(
            make,
            task_context(ti),
            tries=TRIES,
            triggerer=triggerer,
            on_retry=lambda error: tally.add(f"task retry {name}: {cause(error)}"),
        )
        lc.results[name] = result
        lc.results[f"{name} xcom"] = ti.xcoms
        return result

    try:
        campaign_id = task("create", lambda: create_operator(lc))
        start_args = START_ARGUMENTS.get(lc.kind, {})
        task("start", lambda: StartCampaignOperator(task_id="start", campaign_id=campaign_id, **start_args))
        if lc.kind in ("sensor, poke", "deferred sensor"):
            deferrable = lc.kind == "deferred sensor"
            task(
                "wait",
                lambda: CampaignStatusSensor(
                    task_id="wait",
                    campaign_id=campaign_id,
                    poke_interval=0.2,
                    timeout=120,
                    deferrable=deferrable,
                ),
            )
        task("stop", lambda: StopCampaignOperator(task_id="stop", campaign_id=campaign_id))
        task(
            "delete",
            lambda: DeleteCampaignOperator(task_id="delete", campaign_id=campaign_id, stop_first=True),
        )
    except BaseException as error:
        lc.error = error


def replay_faults(faults: FaultConfig, records: list[dict[str, Any]]) -> tuple[dict[int, float], list[int]]:
    """Draw the seeded faults again, one per logged request in arrival order: the delay each
    request got (the log does not show it) and the requests whose logged fault differs."""
    injector = FaultInjector(faults)
    delays, mismatched = {}, []
    for record in records:
        draw = injector.draw()
        delays[record["seq"]] = draw.delay
        if (draw.fault.value if draw.fault else None) != record["fault"]:
            mismatched.append(record["seq"])
    return delays, mismatched


def acted(record: dict[str, Any]) -> bool:
    """Whether Kore acted on the request: it answered 2xx, whether or not the answer arrived."""
    return record["status"] is not None and 200 <= record["status"] < 300


def test_fifty_lifecycles_survive_faults_without_duplicates_or_losses(
    faulty_sandbox: tuple[SandboxServer, list[Lifecycle]], tally: Tally, scaled_time: None
) -> None:
    server, lifecycles = faulty_sandbox
    admin = server.admin
    options = PollerOptions(budget_window_seconds=1.0, retry_policy=SCALED_RETRIES, timeout=TIMEOUT)
    began = time.monotonic()
    with running_triggerer(options) as triggerer:
        admin.set_faults(FAULTS)
        with RateLimitWindows(server, SEED) as windows, ThreadPoolExecutor(WORKERS) as pool:
            for future in [pool.submit(run_lifecycle, lc, triggerer, tally) for lc in lifecycles]:
                future.result(timeout=600)
        admin.clear_faults()
        pollers_left = triggerer.pollers_left()
        deferrals = triggerer.fired
    elapsed = time.monotonic() - began

    failed = [(lc.name, lc.kind, repr(lc.error)) for lc in lifecycles if lc.error is not None]
    assert failed == []

    records = settled_requests(admin, timeout=FAULTS.spike_seconds + 10)
    summary = admin.campaigns()
    messages = admin.messages()
    kinds = Counter(request_kind(r) for r in records)

    # Zero duplicates: one campaign ever created per name, one play ever acted on per campaign.
    created = Counter(r["body"]["name"] for r in records if request_kind(r) == "create" and acted(r))
    assert created == dict.fromkeys((lc.name for lc in lifecycles), 1)
    ids = [lc.results["create"] for lc in lifecycles]
    assert len(set(ids)) == LIFECYCLES
    plays = Counter(r["path"].rsplit("/", 1)[1] for r in records if request_kind(r) == "play" and acted(r))
    assert plays == dict.fromkeys(ids, 1)
    # Not even sent: Kore's 412 would refuse a second create of a name or play of an Active
    # campaign, but the provider must not lean on that (a blind resend would show here).
    resent = Counter(
        request_kind(r) for r in records if request_kind(r) in ("create", "play") and r["status"] == 412
    )
    assert resent == {}

    # The seeded faults, replayed: they match the log, and give each request's delay.
    delays, mismatched = replay_faults(FAULTS, records)
    assert mismatched == [], "the request log does not follow the seeded fault sequence"

    # Every lifecycle in the right state, and nothing left behind.
    stopped = 0
    for lc in lifecycles:
        campaign_id = lc.results["create"]
        assert lc.results["create xcom"] == {"campaign_id": campaign_id}
        sent = [m["phone"] for m in messages if m["campaignId"] == campaign_id]
        assert len(sent) == len(set(sent)), f"{lc.name}: a contact got two SMS"
        assert set(sent) <= lc.due, f"{lc.name}: an SMS to a number not due (DNC or another list)"
        deleted = [
            r for r in records if request_kind(r) == "delete" and campaign_id in r["path"] and acted(r)
        ]
        assert len(deleted) == 1, f"{lc.name}: deleted {len(deleted)} times"
        assert lc.results["delete"]["campaign_id"] == campaign_id
        if lc.kind == "stop mid-send":
            # 50 s of sending: every stop of these lands mid-send, however slow the machine.
            assert lc.results["stop"] == "Stopped", f"{lc.name}: not stopped mid-send"
            stopped += 1
            (stop,) = [
                r for r in records if request_kind(r) == "stop" and campaign_id in r["path"] and acted(r)
            ]
            stopped_at = _at(stop["time"]) + delays[stop["seq"]] + 0.1  # it acted after its delay
            assert all(_at(m["sentAt"]) <= stopped_at for m in messages if m["campaignId"] == campaign_id)
            assert len(sent) < len(lc.due)
        else:
            if lc.kind in ("wait in the worker", "deferred start"):
                assert lc.results["start"] == "Completed"
            else:
                assert lc.results["start"] in ("Active", "Completed")
                assert lc.results["wait"] == "Completed"
            assert lc.results["stop"] == "Completed"
            assert set(sent) == lc.due, f"{lc.name}: completed without texting every due contact"
    phones = Counter(m["phone"] for m in messages)
    assert max(phones.values()) == 1
    assert summary["liveCount"] == 0
    assert summary["deletedCount"] == LIFECYCLES
    assert pollers_left == 0

    # What was injected, from the sandbox's log (spikes replayed from the seeded generator).
    spikes = sum(1 for delay in delays.values() if delay >= FAULTS.spike_seconds)
    faults = Counter(r["fault"] for r in records if r["fault"])
    window_429 = sum(1 for r in records if r["status"] == 429 and r["fault"] is None)
    assert faults["burst_429"] == FAULTS.burst_429
    assert min(faults["error"], faults["drop"], spikes, window_429) > 0

    retries = tally.matching("retry ")
    task_retries = tally.matching("task retry ")
    assert all(
        key.rsplit(": ", 1)[1] in (*TRANSIENT, "gave up after 3 unanswered attempts", "CampaignWaitError")
        for key in task_retries
    ), task_retries

    def retried(cause_name: str) -> str:
        worker, trigger = tally[f"retry worker {cause_name}"], tally[f"retry trigger {cause_name}"]
        return f"{worker + trigger} ({worker} in workers, {trigger} in the triggerer)"

    add_figures(
        f"Faults injected: {LIFECYCLES} lifecycles, {WORKERS} at a time, seed {SEED}, {elapsed:.0f} s",
        [
            ("Kore requests the sandbox received", str(len(records))),
            ("  by kind", ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())),
            (
                f"HTTP {FAULTS.error_status} answers ({FAULTS.error_rate:.0%} of requests)",
                str(faults["error"]),
            ),
            (f"connections dropped without an answer ({FAULTS.drop_rate:.0%})", str(faults["drop"])),
            (f"{FAULTS.spike_seconds:g} s latency spikes ({FAULTS.spike_rate:.0%})", str(spikes)),
            ("429 from the opening burst", str(faults["burst_429"])),
            (
                f"429 from {windows.opened} rate-limit windows ({RATE_WINDOW_REQUESTS} requests/s)",
                str(window_429),
            ),
        ],
    )
    add_figures(
        "Faults survived: what the provider did",
        [
            ("hook retries after a 5xx", retried("5xx")),
            ("hook retries after a 429 (Retry-After honoured)", retried("429")),
            ("hook retries after a dropped connection", retried("dropped")),
            ("hook retries after a read timeout (spike)", retried("timeout")),
            ("any other hook retry", str(sum(retries.values()) - sum(_retried_known(retries)))),
            (
                "creates that failed ambiguously (dropped / timed out / 5xx), never resent blindly",
                f"{tally['create_sms_campaign dropped']} / {tally['create_sms_campaign timeout']}"
                f" / {tally['create_sms_campaign 5xx']}",
            ),
            (
                "  settled by name look-ups: campaign found / none found (then resent)",
                f"{tally['lookup found']} / {tally['lookup absent']}",
            ),
            (
                "  campaigns adopted: created by a lost attempt / created concurrently / found at start",
                f"{tally['adopt was created by the unanswered attempt']}"
                f" / {tally['adopt was created concurrently']} / {tally['adopt already exists']}",
            ),
            (
                "plays that failed ambiguously (dropped / timed out / 5xx), settled by a status read",
                f"{tally['start_campaign dropped']} / {tally['start_campaign timeout']}"
                f" / {tally['start_campaign 5xx']}",
            ),
            (
                "creates sent for a name that existed / plays sent to a playing campaign (Kore's 412)",
                f"{resent['create']} / {resent['play']}",
            ),
            (
                "task retries (Airflow retries=3)",
                ", ".join(
                    f"{key[len('task retry ') :]} x{count}" for key, count in sorted(task_retries.items())
                )
                or "0",
            ),
            ("deferrals run by the triggerer (rebuilt from serialized kwargs)", str(deferrals)),
            ("lifecycles in the right state", f"{LIFECYCLES - len(failed)}/{LIFECYCLES}"),
            ("campaigns created / duplicates", f"{sum(created.values())} / 0"),
            ("plays acted on / second plays", f"{sum(plays.values())} / 0"),
            (
                "stopped mid-send (of the stop lifecycles)",
                f"{stopped}/{KINDS.count('stop mid-send') * LIFECYCLES // len(KINDS)}",
            ),
            (
                "SMS sent / contacts texted twice / due contacts never texted",
                f"{len(messages)} / 0 / 0",
            ),
            ("campaigns left / trigger pollers left", f"{summary['liveCount']} / {pollers_left}"),
        ],
    )


def _retried_known(retries: dict[str, int]) -> list[int]:
    return [count for key, count in retries.items() if key.rsplit(" ", 1)[1] in TRANSIENT]


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
