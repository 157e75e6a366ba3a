"""CampaignStatusSensor: wait until a Kore.ai campaign reaches a status, in any sensor mode.

DAG files import this module at every parse: it imports no hook, trigger or model and does no
I/O at import; those load when the task runs.
"""

from __future__ import annotations

import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import BaseSensorOperator, PokeReturnValue, conf
from airflow_campaign_provider._lazy import lazy_names
from airflow_campaign_provider.exceptions import CampaignWaitFailedError
from airflow_campaign_provider.hooks import DEFAULT_CONN_ID
from airflow_campaign_provider.operators.arguments import raise_problems
from airflow_campaign_provider.operators.base import hook_params_problems

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from airflow.sdk import Context

    from airflow_campaign_provider.hooks.campaign import CampaignHook


#: ``CampaignHook``, imported on first use (and replaceable here by tests).
__getattr__ = lazy_names(__name__, {"CampaignHook": "airflow_campaign_provider.hooks.campaign"})


class CampaignStatusSensor(BaseSensorOperator):
    """
    Wait until a Kore.ai campaign reaches one of ``target_statuses``; return that status (XCom).

    * A failure status fails the task at once, without retries, naming the status; so does a
      campaign that no longer exists (404).
    * A status Kore does not document is logged and waited on.
    * Transient errors (429, 5xx, timeouts, dropped connections) are retried by the hook with
      back-off, ``Retry-After`` honoured. They fail a poke only when they persist past the hook's
      retry policy: 6 attempts and at most 5 minutes of back-off. Then the task's own
      ``retries`` apply (or ``silent_fail`` keeps poking).
    * Each status change is logged, not each poke. (In ``reschedule`` mode every run starts
      afresh, so each run logs the status it first sees.)
    * ``deferrable=True`` pokes once and, unless done, defers to :class:`CampaignStatusTrigger`
      with the deadline ``timeout`` seconds from then and ``poke_interval`` (at least 1 s) as
      its poll interval;
      the triggerer shares its reads and request budget with every other waiting task.

    :param campaign_id: The campaign to wait on (``cd-…``); templated.
    :param target_statuses: Statuses that end the wait with success.
    :param failure_statuses: Statuses that fail it at once; by default every terminal status
        that is not a target (``Stopped`` when waiting for ``Completed``). ``()`` for none.
    :param campaign_type: ``sms`` or ``voice``; templated.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``; templated.
    :param stream_id: Bot/stream id overriding the connection's; templated.
    :param deferrable: Wait in the triggerer; default ``[operators] default_deferrable``.
    :param hook_params: The hook's settings for this task (timeouts, retry policy; the fields of
        ``HookParams``): the pokes use them, and so does the triggerer when the sensor defers.
    """

    template_fields: Sequence[str] = ("campaign_id", "campaign_type", "kore_conn_id", "stream_id")
    ui_color = "#dbeaf7"

    def __init__(
        self,
        *,
        campaign_id: str,
        target_statuses: str | Iterable[str] = ("Completed",),
        failure_statuses: str | Iterable[str] | None = None,
        campaign_type: str = "sms",
        kore_conn_id: str = DEFAULT_CONN_ID,
        stream_id: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        hook_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.hook_params = dict(hook_params or {})
        raise_problems(hook_params_problems(self.hook_params))
        from airflow_campaign_provider.status import WaitGoal

        self.goal = WaitGoal.of(target_statuses, failure_statuses)
        self.target_statuses = self.goal.targets
        self.failure_statuses = self.goal.failures
        self.campaign_id = campaign_id
        self.campaign_type = campaign_type
        self.kore_conn_id = kore_conn_id
        self.stream_id = stream_id
        self.deferrable = deferrable
        self._last_status: str | None = None

    @cached_property
    def hook(self) -> CampaignHook:
        hook_class: type[CampaignHook] = sys.modules[__name__].CampaignHook
        return hook_class(self.kore_conn_id, stream_id=self.stream_id or None, params=self.hook_params)

    def poke(self, context: Context) -> PokeReturnValue:
        """Read the status once; done on a target status, fail at once on a failure status or 404."""
        from airflow_campaign_provider.api import CampaignType, validate_campaign_id
        from airflow_campaign_provider.exceptions import CampaignNotFoundError
        from airflow_campaign_provider.status import WaitOutcome, log_status

        campaign_id = validate_campaign_id(self.campaign_id)
        CampaignType.parse(self.campaign_type)
        try:
            status = self.hook.get_campaign_status(campaign_id)
        except CampaignNotFoundError:
            raise CampaignWaitFailedError(WaitOutcome.not_found(campaign_id).message) from None
        if status != self._last_status:
            self._last_status = status
            log_status(self.log, campaign_id, status)
        outcome = self.goal.judge(campaign_id, status)
        if outcome is None:
            return PokeReturnValue(False)
        if outcome.status == "failure":
            raise CampaignWaitFailedError(outcome.message)
        self.log.info("%s", outcome.message)
        return PokeReturnValue(True, status)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        from airflow_campaign_provider.triggers.campaign import defer_to_trigger

        defer_to_trigger(
            self,
            campaign_id=self.campaign_id,
            goal=self.goal,
            campaign_type=self.campaign_type,
            kore_conn_id=self.kore_conn_id,
            poll_interval=max(self.poke_interval, 1.0),
            timeout=self.timeout,
            stream_id=self.stream_id or None,
            hook_params=self.hook.hook_params(),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Resume after the trigger fired: return the campaign status or raise what the event says."""
        from airflow_campaign_provider.triggers.campaign import resume_from_trigger

        return resume_from_trigger(self, event, self.campaign_id)
