"""CampaignStatusTrigger: wait in the triggerer until a Kore.ai campaign reaches a status.

Every trigger of one triggerer that uses the same connection shares one poller and every
connection of one account shares one request budget (see :mod:`.poller`), so a thousand waits
cost about as many calls as a handful. :func:`campaign_status_from_event` validates the one
event a trigger fires, for every ``execute_complete`` that receives it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import CampaignType, validate_campaign_id
from airflow_campaign_provider.exceptions import (
    CampaignWaitError,
    CampaignWaitFailedError,
    CampaignWaitTimeoutError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.status import WaitGoal, WaitOutcome, campaign_status_from_event, log_status
from airflow_campaign_provider.triggers.poller import poller_registry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping

    from airflow_campaign_provider._compat import BaseOperator

#: What a deferring task's ``execute_complete`` needs, importable from here as before.
__all__ = [
    "CampaignStatusTrigger",
    "CampaignWaitError",
    "CampaignWaitFailedError",
    "CampaignWaitTimeoutError",
    "campaign_status_from_event",
    "defer_to_trigger",
    "resume_from_trigger",
]

#: The deadline of a trigger built without one: Airflow's default sensor timeout, 7 days.
DEFAULT_WAIT_SECONDS = 7 * 24 * 3600.0
#: The trigger's own deadline fires first; Airflow's deferral timeout is a backstop this much later.
DEFERRAL_TIMEOUT_GRACE_SECONDS = 60.0


class CampaignStatusTrigger(BaseTrigger):
    """
    Fire once when a campaign reaches a target status, a failure status, or the deadline.

    The first status read comes one ``poll_interval`` after the trigger starts, and reads are
    shared with every other trigger of the process on the same connection. Each status change
    is logged (a status Kore does not document as a warning, then waited on).

    The one event is ``{"status": "success" | "failure" | "timeout" | "error", "campaign_id",
    "campaign_status", "message"}``: ``failure`` for a failure status or a campaign that no longer
    exists (404, with ``campaign_status`` None), ``error`` when Kore kept failing past the retry
    policy or anything else went wrong.

    Cancelling the trigger stops the wait. With ``stop_on_kill`` (set by a task that started the
    campaign) a person's act on the deferred task (mark failed or success, clear) also stops the
    campaign, through ``on_kill`` (Airflow 3.3); a triggerer restart, the trigger moving to another
    triggerer, or its timeout stop nothing. Airflow 3.1 and 3.2 never call ``on_kill``: there a
    killed deferred wait leaves its campaign running.

    :param campaign_id: The campaign to wait on (``cd-…``).
    :param target_statuses: Statuses that end the wait with success.
    :param failure_statuses: Statuses that end it with failure at once; by default every terminal
        status that is not a target.
    :param campaign_type: ``sms`` or ``voice``.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    :param poll_interval: Seconds between two reads of this campaign's status.
    :param end_time: Deadline in epoch seconds; by default 7 days from now.
    :param stream_id: Bot/stream id overriding the connection's.
    :param hook_params: The deferring task's hook settings
        (:class:`~airflow_campaign_provider.models.settings.HookParams` fields: timeouts, retry
        policy), so the triggerer's calls retry and time out as the task's did. Waits with the
        same settings share a poller; every poller of the account shares one budget.
    :param stop_on_kill: Stop the campaign when a person kills the deferred task (``on_kill``).
    """

    def __init__(
        self,
        campaign_id: str,
        target_statuses: str | Iterable[str],
        failure_statuses: str | Iterable[str] | None = None,
        campaign_type: str = "sms",
        kore_conn_id: str = "kore_campaign_default",
        poll_interval: float = 30.0,
        end_time: float | None = None,
        stream_id: str | None = None,
        hook_params: Mapping[str, Any] | None = None,
        stop_on_kill: bool = False,
    ) -> None:
        super().__init__()
        self.stop_on_kill = bool(stop_on_kill)
        self.stream_id = stream_id or None
        self.hook_params = _hook_params(hook_params)
        self.campaign_id = validate_campaign_id(campaign_id)
        self.goal = WaitGoal.of(target_statuses, failure_statuses)
        self.campaign_type = CampaignType.parse(campaign_type).value
        self.kore_conn_id = kore_conn_id
        self.poll_interval = _number(poll_interval, "poll_interval", "must be a positive number")
        if not (math.isfinite(self.poll_interval) and self.poll_interval > 0):
            raise InvalidCampaignArgumentError(
                "poll_interval", f"must be a positive number, got {poll_interval!r}"
            )
        self.end_time = (
            _number(end_time, "end_time", "must be epoch seconds")
            if end_time is not None
            else clock.wall() + DEFAULT_WAIT_SECONDS
        )
        if not math.isfinite(self.end_time):
            raise InvalidCampaignArgumentError("end_time", f"must be epoch seconds, got {end_time!r}")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-safe keyword arguments; they rebuild an equal trigger."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "campaign_id": self.campaign_id,
                "target_statuses": list(self.goal.targets),
                "failure_statuses": list(self.goal.failures),
                "campaign_type": self.campaign_type,
                "kore_conn_id": self.kore_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                **({"stream_id": self.stream_id} if self.stream_id else {}),
                **({"hook_params": self.hook_params} if self.hook_params else {}),
                **({"stop_on_kill": True} if self.stop_on_kill else {}),
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Yield exactly one event, then return."""

        try:
            outcome = await poller_registry().wait(
                kore_conn_id=self.kore_conn_id,
                campaign_id=self.campaign_id,
                campaign_type=self.campaign_type,
                goal=self.goal,
                poll_interval=self.poll_interval,
                end_time=self.end_time,
                on_change=self._log_change,
                stream_id=self.stream_id,
                hook_params=self.hook_params,
            )
        except Exception as error:
            outcome = WaitOutcome.error(self.campaign_id, error)
        if outcome.status != "success":
            self.log.warning("%s", outcome.message)
        yield TriggerEvent(outcome.event(self.campaign_id))

    def _log_change(self, status: str) -> None:
        log_status(self.log, self.campaign_id, status)

    async def on_kill(self) -> None:
        """A person acted on the deferred task: stop the campaign it started (``stop_on_kill``).

        The stop runs the synchronous hook in a thread (its connection read never blocks the
        event loop); should Airflow's bound on ``on_kill`` pass first, the thread still finishes
        the stop. Logged, never raised.
        """
        if not self.stop_on_kill:
            return
        import asyncio

        self.log.info(
            "The deferred task was killed: stopping campaign %s, which it started.", self.campaign_id
        )
        try:
            status = await asyncio.to_thread(self._stop_campaign)
        except Exception:
            self.log.exception("Could not stop campaign %s; stop it in Kore.ai.", self.campaign_id)
            return
        if status is None:
            self.log.info("Campaign %s is not running; nothing to stop.", self.campaign_id)
        else:
            self.log.info("Campaign %s is %s.", self.campaign_id, status)

    def _stop_campaign(self) -> str | None:
        from airflow_campaign_provider.hooks.campaign import CampaignHook
        from airflow_campaign_provider.lifecycle.stop import stop_started_campaign

        hook = CampaignHook(self.kore_conn_id, stream_id=self.stream_id, params=self.hook_params)
        try:
            return stop_started_campaign(
                hook, self.campaign_id, self.campaign_type, hook.params.ambiguity_recheck_seconds
            )
        finally:
            hook.close()


def defer_to_trigger(
    task: BaseOperator,
    *,
    campaign_id: str,
    goal: WaitGoal,
    campaign_type: str,
    kore_conn_id: str,
    poll_interval: float,
    timeout: float,
    stream_id: str | None = None,
    hook_params: Mapping[str, Any] | None = None,
    stop_on_kill: bool = False,
) -> NoReturn:
    """Hand a task's wait to the triggerer; it resumes in ``execute_complete``.

    The trigger's deadline is ``timeout`` from now; Airflow's own deferral timeout is only a
    backstop, one poll and a grace period later, so the trigger's clearer timeout event wins.
    ``hook_params``: the task's hook settings (``hook.hook_params()``), carried into the trigger.
    ``stop_on_kill``: the task started the campaign; a person killing the deferred task stops it.
    """
    from datetime import timedelta

    task.defer(
        trigger=CampaignStatusTrigger(
            campaign_id=campaign_id,
            target_statuses=goal.targets,
            failure_statuses=goal.failures,
            campaign_type=campaign_type,
            kore_conn_id=kore_conn_id,
            poll_interval=poll_interval,
            end_time=clock.wall() + timeout,
            stream_id=stream_id,
            hook_params=hook_params,
            stop_on_kill=stop_on_kill,
        ),
        method_name="execute_complete",
        timeout=timedelta(seconds=timeout + poll_interval + DEFERRAL_TIMEOUT_GRACE_SECONDS),
    )


def resume_from_trigger(task: BaseOperator, event: Any, campaign_id: str) -> str:
    """What ``execute_complete`` of a task that deferred with :func:`defer_to_trigger` does: log
    the event's message and return the status it reached, or raise what the event names."""
    status = campaign_status_from_event(event, campaign_id)
    task.log.info("%s", event["message"])
    return status


def _number(value: Any, field: str, rule: str) -> float:
    """``value`` as a float, or an error naming the field (kwargs may come back from storage)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidCampaignArgumentError(field, f"{rule}, got {value!r}") from None


def _hook_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """A task's hook settings, checked once, as the JSON-safe mapping the trigger serializes."""
    if not params:
        return {}
    from airflow_campaign_provider.models.settings import HookParams

    return HookParams.of(params).serialize()
