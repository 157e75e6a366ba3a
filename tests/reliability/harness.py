"""Run the provider's operators, sensor and trigger the way Airflow runs them, outside Airflow.

* :func:`run_task` is a task with ``retries``: each try is a fresh operator (a new worker process
  in Airflow), a retryable exception starts the next try, ``AirflowFailException`` and sensor
  timeouts end the task at once, and a deferral is handed to a :class:`Triggerer` and resumed
  with ``resume_execution`` on yet another fresh operator, as the task runner does.
* :class:`Triggerer` is one event loop in a thread that runs every trigger, like Airflow's
  triggerer process: triggers are stored and rebuilt from their serialized kwargs first, so a
  trigger whose kwargs do not survive the trip fails here as it would there.
* :class:`Tally` counts, thread-safely, what the provider did (retries, settled ambiguities).
* :func:`use_hook_settings` gives every operator's and sensor's hook a timeout and retry policy,
  :func:`settled_requests` reads the sandbox's request log once nothing is in flight.

Every wait here is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout, TaskDeferred

from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators import base as operator_module
from airflow_campaign_provider.operators.campaign import StartCampaignOperator
from airflow_campaign_provider.sandbox.admin import SandboxAdmin
from airflow_campaign_provider.sensors import campaign as sensor_module
from airflow_campaign_provider.triggers.poller import PollerOptions, PollerRegistry, poller_registry


class FakeTaskInstance:
    """The little of a task instance the provider's operators use: ``xcom_push`` and ``try_number``."""

    def __init__(self, try_number: int = 1) -> None:
        self.xcoms: dict[str, Any] = {}
        self.try_number = try_number

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


def task_context(ti: FakeTaskInstance | None = None) -> Any:
    """A task context holding ``ti`` (typed ``Any``: the operators declare Airflow's ``Context``)."""
    return {"ti": ti if ti is not None else FakeTaskInstance()}


class Tally:
    """A thread-safe counter of named events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def add(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[key] += amount

    def __getitem__(self, key: str) -> int:
        with self._lock:
            return self.counts[key]

    def matching(self, prefix: str) -> dict[str, int]:
        with self._lock:
            return {key: value for key, value in self.counts.items() if key.startswith(prefix)}


def rebuild_trigger(trigger: Any) -> Any:
    """The trigger the triggerer would run: stored as Airflow stores it (``Trigger.from_object``,
    kwargs encrypted and serialized), then decrypted, decoded and instantiated from its class path."""
    from airflow._shared.module_loading import import_string
    from airflow.models.trigger import Trigger
    from airflow.serialization.decoders import smart_decode_trigger_kwargs

    row = Trigger.from_object(trigger)
    kwargs = Trigger._decrypt_kwargs(row.encrypted_kwargs)
    decoded = {key: smart_decode_trigger_kwargs(value) for key, value in kwargs.items()}
    return import_string(row.classpath)(**decoded)


async def fire(trigger: Any) -> dict[str, Any]:
    """Run a trigger to its end; it must yield exactly one event."""
    events = [event async for event in trigger.run()]
    if len(events) != 1:
        raise AssertionError(f"a trigger must fire exactly once, it fired {len(events)} times")
    return dict(events[0].payload)


class Triggerer:
    """One event loop in a thread running triggers, like Airflow's triggerer process.

    Every trigger it runs shares the loop's poller registry (configured with ``options``).
    """

    def __init__(self, options: PollerOptions) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-triggerer", daemon=True)
        self._thread.start()
        self.registry: PollerRegistry = self.call(self._configure(options), timeout=10)
        self.fired = 0

    @staticmethod
    async def _configure(options: PollerOptions) -> PollerRegistry:
        registry = poller_registry()
        registry.options = options
        return registry

    def call(self, coroutine: Any, timeout: float) -> Any:
        """Run ``coroutine`` on the triggerer's loop and wait at most ``timeout`` seconds for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self, trigger: Any) -> concurrent.futures.Future[dict[str, Any]]:
        """Rebuild ``trigger`` from its serialized form and start it; the future gives its event."""
        self.fired += 1
        return asyncio.run_coroutine_threadsafe(fire(rebuild_trigger(trigger)), self.loop)

    def run(self, trigger: Any, timeout: float) -> dict[str, Any]:
        """Run ``trigger`` (rebuilt) and return its event's payload, waiting at most ``timeout`` s."""
        return self.start(trigger).result(timeout)

    def poller_cycles(self) -> int:
        """Status-reading cycles the live pollers have run so far."""

        async def count() -> int:
            return sum(poller.cycles for poller in self.registry.pollers())

        return int(self.call(count(), timeout=10))

    def pollers_left(self) -> int:
        async def count() -> int:
            return len(self.registry.pollers())

        return int(self.call(count(), timeout=10))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


#: What Airflow does not retry: the task fails at once.
NOT_RETRIED = (AirflowFailException, AirflowSensorTimeout)


def run_task(
    make: Callable[[], Any],
    context: dict[str, Any],
    *,
    tries: int,
    triggerer: Triggerer | None = None,
    trigger_timeout: float = 120.0,
    on_retry: Callable[[BaseException], None] | None = None,
) -> Any:
    """Run a task of up to ``tries`` tries and return what it returned (its XCom value).

    ``make`` builds the operator: each try and each resumption gets a fresh one, as in Airflow.
    """
    for attempt in range(1, tries + 1):
        ti = context.get("ti")
        if isinstance(ti, FakeTaskInstance):
            ti.try_number = attempt
        try:
            return _one_try(make, context, triggerer, trigger_timeout)
        except NOT_RETRIED:
            raise
        except Exception as error:
            if attempt == tries:
                raise
            if on_retry is not None:
                on_retry(error)
    raise AssertionError("unreachable: the last try returns or raises")


def _one_try(
    make: Callable[[], Any], context: dict[str, Any], triggerer: Triggerer | None, trigger_timeout: float
) -> Any:
    try:
        return make().execute(context)
    except TaskDeferred as deferred:
        if triggerer is None:
            raise AssertionError("the task deferred but no triggerer runs") from None
        event = triggerer.run(deferred.trigger, trigger_timeout)
        next_kwargs = {**(deferred.kwargs or {}), "event": event}
        return make().resume_execution(deferred.method_name, next_kwargs, context)


@contextmanager
def running_triggerer(options: PollerOptions) -> Iterator[Triggerer]:
    triggerer = Triggerer(options)
    try:
        yield triggerer
    finally:
        triggerer.close()


def deferred_start(campaign_id: str, poll_interval: float = 0.2) -> StartCampaignOperator:
    """A start that waits for completion in the triggerer."""
    return StartCampaignOperator(
        task_id="start",
        campaign_id=campaign_id,
        wait_for_completion=True,
        deferrable=True,
        poll_interval=poll_interval,
        timeout=120,
    )


def use_hook_settings(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> type[CampaignHook]:
    """Give the hook of every operator and sensor these constructor arguments (``timeout``,
    ``retry_policy``) by default, as a subclass would; returns that hook class."""

    class ConfiguredHook(CampaignHook):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            for name, value in settings.items():
                kwargs.setdefault(name, value)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(operator_module, "CampaignHook", ConfiguredHook)
    monkeypatch.setattr(sensor_module, "CampaignHook", ConfiguredHook)
    return ConfiguredHook


def settled_requests(admin: SandboxAdmin, timeout: float) -> list[dict[str, Any]]:
    """The sandbox's request log once no request is still in flight on the server.

    A request whose client gave up during a latency spike still sleeps on the server: its
    status (and fault) is written when it wakes, and a create or play only acts then. The log
    is read when every request has been answered or dropped, at most ``timeout`` seconds on.
    """
    deadline = time.monotonic() + timeout
    while True:
        records = admin.requests()
        pending = [r["seq"] for r in records if r["status"] is None and r["fault"] != "drop"]
        if not pending:
            return records
        if time.monotonic() > deadline:
            raise AssertionError(f"requests still unanswered after {timeout} s: {pending}")
        time.sleep(0.1)
