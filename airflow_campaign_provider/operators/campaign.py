"""Operators for Kore.ai campaigns: create an SMS campaign from a template, start, stop, delete.

Each is a few lines over :mod:`airflow_campaign_provider.lifecycle`, which owns the guarantees (a
retry or rerun never creates a second campaign nor sends one twice); an operator adds only its
arguments, checked where already known. Importing this module loads no hook, no HTTP client and
no model (DAG files import it at every parse): those load when a task runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import conf
from airflow_campaign_provider.exceptions import CampaignAlreadyRunError as CampaignAlreadyRunError
from airflow_campaign_provider.exceptions import CampaignConflictError as CampaignConflictError
from airflow_campaign_provider.exceptions import CampaignError
from airflow_campaign_provider.exceptions import CampaignNotStartableError as CampaignNotStartableError
from airflow_campaign_provider.operators.arguments import check_positive, raise_problems, try_number
from airflow_campaign_provider.operators.base import TargetCampaignBaseOperator
from airflow_campaign_provider.operators.create import CreateCampaignBaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from airflow.sdk import Context

    from airflow_campaign_provider.payload import SmsCampaignSpec

#: The arguments of an SMS campaign from a template (those of ``SmsCampaignSpec``), in its order.
SPEC_FIELDS = (
    "name",
    "description",
    "contact_lists",
    "template_name",
    "message",
    "caller_id",
    "calling_hours",
    "priority",
    "format",
    "dnc_list",
)


class CreateSmsCampaignOperator(CreateCampaignBaseOperator):
    """
    Create a Kore.ai SMS campaign from a message template, exactly once.

    Arguments are checked before any HTTP call (here where not templated, again after rendering;
    one error lists every problem); a retry or rerun never creates a second campaign. See
    :func:`~airflow_campaign_provider.lifecycle.create.create_campaign_once`, which does the work. The campaign id is pushed
    to XCom (key ``campaign_id``) as soon as it is known and returned.

    :param name: Campaign name, at most 48 characters; it identifies the campaign across retries.
    :param description: At most 256 characters.
    :param contact_lists: Names of existing contact lists, at least one.
    :param template_name: Name of the pre-approved message template.
    :param message: The template's body as plain text (sent base64-encoded; must match exactly).
    :param caller_id: Sender number in E.164 form, e.g. ``+14155550100``.
    :param calling_hours: ``{"frequency": "WEEKLY"|"DAILY"|"CUSTOM", "timezone": "Asia/Kolkata",
        "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}, ...]}``.
    :param priority: 1 to 5 (sent as the string Kore wants); higher runs first.
    :param format: ``"simple"`` (default), the one format Kore documents for template campaigns.
    :param dnc_list: Name of a Do-Not-Call list whose numbers are skipped.
    :param if_exists: ``"reuse"`` (default) reuses a same-named campaign that matches the request
        and fails naming every differing field otherwise; ``"fail"`` fails whenever one exists
        before this attempt creates it (so a retry after a successful create fails too).
    :param wait_for_ready: Wait until the campaign leaves ``Preparing`` before returning.
    :param ready_timeout: Seconds to wait for ``Ready``.
    :param poll_interval: Seconds between two status reads while waiting.
    :param stream_id: Bot/stream id overriding the connection's.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    :param hook_params: The hook's settings: create attempts, look-ups after an ambiguous create
        and their spacing, timeouts, retries (see ``HookParams``).
    """

    template_fields: Sequence[str] = ("kore_conn_id", "stream_id", *SPEC_FIELDS)
    campaign_type = "sms"
    campaign_arguments = ("template_name", "message", "format", "dnc_list")

    def __init__(
        self,
        *,
        template_name: str,
        message: str,
        format: str = "simple",
        dnc_list: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.template_name = template_name
        self.message = message
        self.format = format
        self.dnc_list = dnc_list
        self._check_arguments()

    def _spec(self) -> SmsCampaignSpec:
        """The campaign the (rendered) arguments describe."""
        from airflow_campaign_provider.payload import SmsCampaignSpec

        return SmsCampaignSpec(**{name: getattr(self, name) for name in SPEC_FIELDS})

    def _problems(self) -> list[tuple[str, str]]:
        return self._spec().problems()

    def _create_once(self, created_after: datetime | None) -> dict[str, Any]:
        return self.hook.create_sms_campaign_once(
            self._spec(), if_exists=self.if_exists, created_after=created_after
        )


class StartCampaignOperator(TargetCampaignBaseOperator):
    """
    Start a Kore.ai campaign (``trigger=play``), never twice; optionally wait until it completes.

    Only a ``Ready`` campaign is played; an ``Active`` one is left alone, any other status is
    refused naming it (``Completed``/``Stopped`` without retries), and a lost answer is settled
    by reading the status: see :func:`~airflow_campaign_provider.lifecycle.start.start_campaign_once`.
    Killing the task stops the campaign if this task started it (best effort, logged): in the
    worker through ``on_kill``, and while deferred through the trigger's ``on_kill`` (Airflow 3.3;
    on 3.1 and 3.2 a kill while deferred only ends the wait). A triggerer restart stops nothing.
    Returns ``Active``, or with ``wait_for_completion`` ``Completed``.

    :param campaign_id: The campaign's id (``cd-…``).
    :param campaign_type: ``"sms"`` (default) or ``"voice"``.
    :param wait_for_completion: Wait until the campaign is ``Completed``; ``Stopped`` fails the
        task without retries.
    :param deferrable: Wait in the triggerer (:class:`CampaignStatusTrigger`) instead of the
        worker: the status is checked once, and the task defers only if not done. Default
        ``[operators] default_deferrable``.
    :param timeout: Seconds to wait for completion.
    :param poll_interval: Seconds between two status reads while waiting.
    :param stop_on_kill: Stop the campaign this task started when the task is killed (marked
        failed or success, cleared), also while deferred. Default True.
    :param stream_id: Bot/stream id overriding the connection's (the trigger polls it too).
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    """

    def __init__(
        self,
        *,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        timeout: float = 7 * 24 * 3600.0,
        poll_interval: float = 60.0,
        stop_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.stop_on_kill = stop_on_kill
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.timeout = timeout
        self.poll_interval = poll_interval
        problems: list[tuple[str, str]] = []
        check_positive(problems, "timeout", timeout)
        check_positive(problems, "poll_interval", poll_interval)
        raise_problems(problems, {"timeout": timeout, "poll_interval": poll_interval})
        self._started_campaign_id: str | None = None

    def execute(self, context: Context) -> str:
        from airflow_campaign_provider.status import COMPLETION_GOAL, CampaignStatus

        campaign_id, campaign_type = self._target()
        is_retry = try_number(context) > 1

        def record_intent() -> None:  # before each play: a kill while it is in flight stops it
            self._started_campaign_id = campaign_id

        try:
            start = self.hook.start_campaign_once(
                campaign_id, campaign_type, is_retry=is_retry, before_play=record_intent
            )
        except CampaignError:
            self._started_campaign_id = None  # the play surely did not take effect, or never went
            raise
        # A retry that finds it Active treats it as its own: an earlier try may have played it.
        own = start.started or (is_retry and start.status == CampaignStatus.ACTIVE.value)
        self._started_campaign_id = campaign_id if own else None
        if not self.wait_for_completion:
            return start.status
        if not self.deferrable:
            return self.hook.wait_for_campaign_status(
                campaign_id, COMPLETION_GOAL, timeout=self.timeout, poll_interval=self.poll_interval
            )
        return self._defer_unless_done(campaign_id, campaign_type)

    def _defer_unless_done(self, campaign_id: str, campaign_type: str) -> str:
        """Check once; defer to the trigger only if the campaign has not finished yet."""
        from airflow_campaign_provider.status import COMPLETION_GOAL

        status, done = self.hook.check_campaign_status(campaign_id, COMPLETION_GOAL)
        if done:
            return status
        from airflow_campaign_provider.triggers.campaign import defer_to_trigger

        self.log.info("Campaign %s is %s; deferring until it completes.", campaign_id, status)
        defer_to_trigger(
            self,
            campaign_id=campaign_id,
            goal=COMPLETION_GOAL,
            campaign_type=campaign_type,
            kore_conn_id=self.kore_conn_id,
            poll_interval=self.poll_interval,
            timeout=self.timeout,
            stream_id=self.stream_id or None,
            hook_params=self.hook.hook_params(),
            stop_on_kill=self.stop_on_kill and self._started_campaign_id == campaign_id,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Resume after the trigger fired: the campaign's final status, or the error the event names."""
        from airflow_campaign_provider.triggers.campaign import resume_from_trigger

        return resume_from_trigger(self, event, self.campaign_id)

    def on_kill(self) -> None:
        """Stop the campaign if this task started it, or may have (a play was sent, its answer not
        yet read; or a retry found Active what an earlier try played). Logged, never raised.

        A stop Kore refuses while the play is still landing is sent once more, after
        ``hook_params.ambiguity_recheck_seconds``, if the campaign has turned Active meanwhile.
        """
        campaign_id = self._started_campaign_id
        if campaign_id is None or not self.stop_on_kill:
            return
        self.log.info("Task killed: stopping campaign %s, which it started or may have.", campaign_id)
        from airflow_campaign_provider.api import CampaignType
        from airflow_campaign_provider.lifecycle.stop import stop_started_campaign

        campaign_type = CampaignType.parse(self.campaign_type).value
        recheck = self.hook.params.ambiguity_recheck_seconds
        try:
            status = stop_started_campaign(self.hook, campaign_id, campaign_type, recheck)
        except Exception:
            self.log.exception("Could not stop campaign %s; stop it in Kore.ai.", campaign_id)
        else:
            if status is None:
                self.log.info("Campaign %s is not running; nothing to stop.", campaign_id)
            else:
                self.log.info("Campaign %s is %s.", campaign_id, status)


class StopCampaignOperator(TargetCampaignBaseOperator):
    """
    Stop a Kore.ai campaign (``trigger=stop``); stopping one that is not running succeeds.

    A campaign already ``Stopped`` or ``Completed`` is left as is, and so is one never started
    (``Preparing``, ``Ready``); the log says which. Returns the resulting status.

    :param campaign_id: The campaign's id (``cd-…``).
    :param campaign_type: ``"sms"`` (default) or ``"voice"``.
    :param stream_id: Bot/stream id overriding the connection's.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    """

    def execute(self, context: Context) -> str:
        return self.hook.stop_campaign_if_running(*self._target())


class DeleteCampaignOperator(TargetCampaignBaseOperator):
    """
    Delete a Kore.ai SMS or voice campaign; deleting one that is gone succeeds by default.

    Returns a summary of the deleted campaign: ``campaign_id``, ``campaign_type``, ``name``,
    ``status`` (at deletion), ``deleted`` (False when it was already gone) and Kore's ``message``.

    :param campaign_id: The campaign's id (``cd-…``).
    :param campaign_type: ``"sms"`` (default) or ``"voice"``.
    :param missing_ok: Treat a campaign that does not exist as deleted (logged). A campaign that
        exists with the other type is an error either way.
    :param stop_first: Stop an ``Active`` campaign before deleting it, so no send is left in flight.
    :param stream_id: Bot/stream id overriding the connection's.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    """

    def __init__(self, *, missing_ok: bool = True, stop_first: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.missing_ok = missing_ok
        self.stop_first = stop_first

    def execute(self, context: Context) -> dict[str, Any]:
        campaign_id, campaign_type = self._target()
        return self.hook.delete_campaign_if_exists(
            campaign_id, campaign_type, missing_ok=self.missing_ok, stop_first=self.stop_first
        )
