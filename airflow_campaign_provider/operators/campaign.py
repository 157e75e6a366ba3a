"""Operators for Kore.ai campaigns: create an SMS campaign from a template, start, stop, delete.

Each is thin over :class:`CampaignHook` (which owns auth, HTTP and retries of safe calls) and
adds what a task needs on top: arguments checked before any HTTP call, and idempotency, so a
task retry or a rerun never creates a second campaign nor sends a campaign twice. Importing
this module stays cheap: DAG files import it at every parse.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, conf

from airflow_campaign_provider.api import CampaignType, campaign_id_of, validate_campaign_id
from airflow_campaign_provider.exceptions import (
    CampaignAlreadyRunError,
    CampaignArgumentsError,
    CampaignConflictError,
    CampaignError,
    CampaignNotFoundError,
    CampaignNotStartableError,
    CampaignOutcomeUnknownError,
    CampaignServerError,
    CampaignValidationError,
    CampaignWaitFailedError,
    CampaignWaitTimeoutError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.payload import SmsCampaignSpec
from airflow_campaign_provider.status import (
    COMPLETION_GOAL,
    READY_GOAL,
    TERMINAL_STATUSES,
    CampaignStatus,
    WaitGoal,
    campaign_status_from_event,
    is_documented,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

IF_EXISTS_CHOICES = ("reuse", "fail")
#: CreateSmsCampaignOperator arguments that are not templated, checked at construction only.
_SETTINGS = ("if_exists", "wait_for_ready", "ready_timeout", "poll_interval")
_JINJA_MARKERS = ("{{", "{%", "{#")
_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _sleep(seconds: float) -> None:
    """Polling sleep; a seam tests replace so waits cost no wall time."""
    time.sleep(seconds)


def _is_templated(value: Any) -> bool:
    """Whether ``value`` is only known after rendering: a Jinja string or a non-plain object
    (an ``XComArg`` and the like), anywhere inside lists and mappings."""
    if isinstance(value, str):
        return any(marker in value for marker in _JINJA_MARKERS)
    if isinstance(value, _PLAIN_SCALARS):
        return False
    if isinstance(value, (list, tuple)):
        return any(_is_templated(item) for item in value)
    if isinstance(value, dict):
        return any(_is_templated(key) or _is_templated(item) for key, item in value.items())
    return True


def _argument_of(field: str) -> str:
    """The operator argument a problem's field belongs to: ``calling_hours.days[0].day`` → ``calling_hours``."""
    return field.split(".", 1)[0].split("[", 1)[0]


def _raise_problems(problems: list[tuple[str, str]], values: Mapping[str, Any] | None = None) -> None:
    """Raise every problem at once; with ``values``, skip arguments still to be rendered."""
    if values is not None:
        problems = [
            (field, rule) for field, rule in problems if not _is_templated(values[_argument_of(field)])
        ]
    if problems:
        raise CampaignArgumentsError(problems)


def _check_positive(problems: list[tuple[str, str]], field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        problems.append((field, f"must be a number of seconds > 0, got {value!r}"))


def _check_target(problems: list[tuple[str, str]], campaign_id: Any, campaign_type: Any) -> None:
    for check, value in ((validate_campaign_id, campaign_id), (CampaignType.parse, campaign_type)):
        try:
            check(value)
        except InvalidCampaignArgumentError as error:
            problems.append((error.field, error.rule))


class _CampaignOperator(BaseOperator):
    """What every campaign operator shares: the connection, an optional stream, the hook."""

    def __init__(
        self,
        *,
        kore_conn_id: str = CampaignHook.default_conn_name,
        stream_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kore_conn_id = kore_conn_id
        self.stream_id = stream_id

    @cached_property
    def hook(self) -> CampaignHook:
        return CampaignHook(self.kore_conn_id, stream_id=self.stream_id or None)

    def _status(self, campaign_id: str) -> str:
        return self.hook.get_campaign_status(campaign_id)

    def _wait_for(self, campaign_id: str, goal: WaitGoal, *, timeout: float, poll_interval: float) -> str:
        """Poll until the status meets ``goal``; raise on a failure status or past ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            status = self._status(campaign_id)
            if self._reached(campaign_id, status, goal):
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CampaignWaitTimeoutError(goal.timed_out(campaign_id, status).message)
            if is_documented(status):
                self.log.info("Campaign %s is %s; waiting.", campaign_id, status)
            else:
                self.log.warning(
                    "Campaign %s is in status %r, which Kore.ai does not document; waiting on.",
                    campaign_id,
                    status,
                )
            _sleep(min(poll_interval, remaining))

    def _reached(self, campaign_id: str, status: str, goal: WaitGoal) -> bool:
        """Whether ``status`` ends a wait for ``goal`` (logged); raises on a failure status."""
        outcome = goal.judge(campaign_id, status)
        if outcome is None:
            return False
        if outcome.status == "failure":
            raise CampaignWaitFailedError(outcome.message)
        self.log.info("%s", outcome.message)
        return True


class _TargetCampaignOperator(_CampaignOperator):
    """An operator acting on one existing campaign, given by id and type."""

    template_fields: Sequence[str] = ("kore_conn_id", "stream_id", "campaign_id", "campaign_type")

    def __init__(
        self,
        *,
        campaign_id: str,
        campaign_type: str = "sms",
        stream_id: str | None = None,
        kore_conn_id: str = CampaignHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(kore_conn_id=kore_conn_id, stream_id=stream_id, **kwargs)
        self.campaign_id = campaign_id
        self.campaign_type = campaign_type
        problems: list[tuple[str, str]] = []
        _check_target(problems, campaign_id, campaign_type)
        _raise_problems(problems, {"campaign_id": campaign_id, "campaign_type": campaign_type})

    def _target(self) -> tuple[str, str]:
        """The rendered ``(campaign_id, campaign_type)``, checked before any HTTP call."""
        problems: list[tuple[str, str]] = []
        _check_target(problems, self.campaign_id, self.campaign_type)
        _raise_problems(problems)
        return self.campaign_id, CampaignType.parse(self.campaign_type).value


class CreateSmsCampaignOperator(_CampaignOperator):
    """
    Create a Kore.ai SMS campaign from a message template, exactly once.

    Every argument is checked against the documented rules before any HTTP call (at construction
    where it is not templated, again after rendering), and one error lists every problem. A task
    retry or rerun never creates a second campaign: a campaign with the same name is looked up
    first and reused when it matches what is asked (``if_exists="reuse"``), and after an ambiguous
    failure (timeout, dropped connection, 5xx) the name is looked up again before any new attempt.

    The campaign id is pushed to XCom (key ``campaign_id``) as soon as it is known and returned
    (``return_value``).

    :param name: Campaign name, at most 48 characters; it identifies the campaign across retries.
    :param description: At most 256 characters.
    :param contact_lists: Names of existing contact lists, at least one.
    :param template_name: Name of the pre-approved message template.
    :param message: The template's body as plain text; it is sent base64-encoded and must match
        the registered body exactly.
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
    """

    template_fields: Sequence[str] = (
        "kore_conn_id",
        "stream_id",
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
    template_fields_renderers = {"calling_hours": "json", "contact_lists": "json"}

    #: Create attempts at most; each after the first only once the name is surely absent.
    max_create_attempts = 3
    #: Name look-ups after an ambiguous create before concluding it did not happen, and their spacing.
    ambiguity_lookups = 2
    ambiguity_recheck_seconds = 5.0

    def __init__(
        self,
        *,
        name: str,
        description: str,
        contact_lists: Sequence[str],
        template_name: str,
        message: str,
        caller_id: str,
        calling_hours: Mapping[str, Any],
        priority: int | str = 5,
        format: str = "simple",
        dnc_list: str | None = None,
        if_exists: str = "reuse",
        wait_for_ready: bool = True,
        ready_timeout: float = 600.0,
        poll_interval: float = 5.0,
        stream_id: str | None = None,
        kore_conn_id: str = CampaignHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(kore_conn_id=kore_conn_id, stream_id=stream_id, **kwargs)
        self.name = name
        self.description = description
        self.contact_lists = contact_lists
        self.template_name = template_name
        self.message = message
        self.caller_id = caller_id
        self.calling_hours = calling_hours
        self.priority = priority
        self.format = format
        self.dnc_list = dnc_list
        self.if_exists = if_exists
        self.wait_for_ready = wait_for_ready
        self.ready_timeout = ready_timeout
        self.poll_interval = poll_interval

        problems = self._spec().problems()
        if if_exists not in IF_EXISTS_CHOICES:
            problems.append(
                ("if_exists", f"must be one of {', '.join(IF_EXISTS_CHOICES)}, got {if_exists!r}")
            )
        if not isinstance(wait_for_ready, bool):
            problems.append(("wait_for_ready", f"must be True or False, got {wait_for_ready!r}"))
        _check_positive(problems, "ready_timeout", ready_timeout)
        _check_positive(problems, "poll_interval", poll_interval)
        arguments = {field: getattr(self, field) for field in (*self.template_fields, *_SETTINGS)}
        _raise_problems(problems, arguments)

    def _spec(self) -> SmsCampaignSpec:
        """The campaign the (rendered) arguments describe."""
        return SmsCampaignSpec(
            name=self.name,
            description=self.description,
            contact_lists=self.contact_lists,
            template_name=self.template_name,
            message=self.message,
            caller_id=self.caller_id,
            calling_hours=self.calling_hours,
            priority=self.priority,
            format=self.format,
            dnc_list=self.dnc_list,
        )

    def execute(self, context: Context) -> str:
        spec = self._spec()
        body = spec.to_body()  # every rendered argument is checked before any HTTP call
        campaign = self._find_existing(spec)
        if campaign is None:
            campaign = self._create(spec, body)
        campaign_id = campaign_id_of(campaign)
        if campaign_id is None:  # parse_campaign guarantees an id; this keeps the type honest
            raise CampaignError(f"Kore.ai returned campaign {spec.name!r} without an id.")
        context["ti"].xcom_push(key="campaign_id", value=campaign_id)
        if self.wait_for_ready and campaign.get("status") != CampaignStatus.READY.value:
            self._wait_for(
                campaign_id, READY_GOAL, timeout=self.ready_timeout, poll_interval=self.poll_interval
            )
        return campaign_id

    def _find_existing(self, spec: SmsCampaignSpec) -> dict[str, Any] | None:
        """A same-named campaign to reuse, None when there is none; raises when it may not be reused."""
        found = self.hook.find_campaign_by_name(spec.name)
        if found is None:
            return None
        if self.if_exists == "fail":
            raise CampaignConflictError(
                f"A campaign named {found.get('name')!r} already exists ({campaign_id_of(found)}, "
                f"status {found.get('status')}); if_exists='fail' forbids reusing it."
            )
        return self._adopt(spec, found, "already exists")

    def _adopt(self, spec: SmsCampaignSpec, found: Mapping[str, Any], why: str) -> dict[str, Any]:
        """The full campaign behind a name match, if it is what ``spec`` asks for."""
        campaign_id = campaign_id_of(found)
        if campaign_id is None:
            raise CampaignConflictError(f"Kore.ai lists a campaign named {spec.name!r} without an id.")
        campaign = self.hook.get_campaign(campaign_id)
        differing, unchecked = spec.differences(campaign)
        if differing:
            raise CampaignConflictError(
                f"A campaign named {campaign.get('name')!r} ({campaign_id}) {why} but differs from what "
                f"this task asks for, so it is not reused:\n" + "\n".join(f"  - {line}" for line in differing)
            )
        if unchecked:
            self.log.info(
                "Kore.ai does not show %s of campaign %s; not compared.", ", ".join(unchecked), campaign_id
            )
        status = campaign.get("status")
        self.log.info(
            "Reusing campaign %s (%s, %s): it %s and matches the request.",
            spec.name,
            campaign_id,
            status,
            why,
        )
        if status in TERMINAL_STATUSES:
            self.log.warning(
                "Campaign %s is already %s: it has run and will not be started again.", campaign_id, status
            )
        return campaign

    def _create(self, spec: SmsCampaignSpec, body: dict[str, Any]) -> dict[str, Any]:
        """Create, and after an ambiguous failure resend only once the name is surely absent."""
        ambiguous: CampaignError | None = None
        for attempt in range(1, self.max_create_attempts + 1):
            try:
                campaign = self.hook.create_sms_campaign(body)
            except (CampaignOutcomeUnknownError, CampaignServerError) as error:
                ambiguous = error
                self.log.warning(
                    "Creating campaign %s may or may not have worked (attempt %d of %d): %s. "
                    "Looking it up by name before any new attempt.",
                    spec.name,
                    attempt,
                    self.max_create_attempts,
                    error,
                )
                found = self._lookup_after_ambiguity(spec.name)
                if found is not None:
                    return self._adopt(spec, found, "was created by the unanswered attempt")
                self.log.info("No campaign named %s exists: the attempt did not take effect.", spec.name)
                continue
            except CampaignValidationError:
                # Kore refuses a taken name: a lost attempt of ours, or a concurrent run, got there first.
                found = self.hook.find_campaign_by_name(spec.name)
                if found is None:
                    raise
                if ambiguous is None and self.if_exists == "fail":
                    raise CampaignConflictError(
                        f"A campaign named {spec.name!r} was created concurrently; if_exists='fail'."
                    ) from None
                return self._adopt(spec, found, "was created concurrently")
            self.log.info(
                "Created campaign %s (%s), status %s.",
                spec.name,
                campaign_id_of(campaign),
                campaign.get("status"),
            )
            return campaign
        raise CampaignError(
            f"Gave up creating campaign {spec.name!r} after {self.max_create_attempts} attempts "
            f"that each failed ambiguously; none took effect. Last error: {ambiguous}"
        ) from ambiguous

    def _lookup_after_ambiguity(self, name: str) -> dict[str, Any] | None:
        for lookup in range(self.ambiguity_lookups):
            if lookup:
                _sleep(self.ambiguity_recheck_seconds)
            found = self.hook.find_campaign_by_name(name)
            if found is not None:
                return found
        return None


class StartCampaignOperator(_TargetCampaignOperator):
    """
    Start a Kore.ai campaign (``trigger=play``), never twice; optionally wait until it completes.

    Only a ``Ready`` campaign is started. An ``Active`` one is left alone and reported as already
    started (a second play could send again). Any other status is refused, naming it: a
    ``Preparing`` campaign is not startable yet, a ``Completed`` or ``Stopped`` one has run (and
    restarting it might message its contacts again; the task fails without retries), a ``Paused``
    or scheduled one is steered in Kore.ai. When the play's answer is lost, the status settles
    whether it took effect. On a retry, a ``Completed`` campaign is the one an earlier try of the
    task started (the first try would have refused it for good): it is reported, not played.

    Killing the task stops the campaign if this task started it (best effort, logged). While
    deferred nothing runs in the worker, so a kill then only ends the wait.

    Returns the campaign's status: ``Active``, or with ``wait_for_completion`` ``Completed``.

    :param campaign_id: The campaign's id (``cd-…``).
    :param campaign_type: ``"sms"`` (default) or ``"voice"``.
    :param wait_for_completion: Wait until the campaign is ``Completed``; ``Stopped`` fails the
        task without retries.
    :param deferrable: Wait in the triggerer (:class:`CampaignStatusTrigger`) instead of the
        worker: the status is checked once, and the task defers only if not done. Default
        ``[operators] default_deferrable``.
    :param timeout: Seconds to wait for completion.
    :param poll_interval: Seconds between two status reads while waiting.
    :param stream_id: Bot/stream id overriding the connection's; not with ``deferrable`` (the
        trigger reads the connection's stream).
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    """

    #: Play attempts at most; each after the first only once the status shows the last did not start it.
    max_start_attempts = 3
    #: Pause before re-reading a ``Ready`` status after an ambiguous play.
    ambiguity_recheck_seconds = 5.0

    def __init__(
        self,
        *,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        timeout: float = 7 * 24 * 3600.0,
        poll_interval: float = 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.timeout = timeout
        self.poll_interval = poll_interval
        problems: list[tuple[str, str]] = []
        _check_positive(problems, "timeout", timeout)
        _check_positive(problems, "poll_interval", poll_interval)
        self._check_stream(problems)
        _raise_problems(
            problems, {"timeout": timeout, "poll_interval": poll_interval, "stream_id": self.stream_id}
        )
        self._started_campaign_id: str | None = None

    def _check_stream(self, problems: list[tuple[str, str]]) -> None:
        if self.deferrable and self.wait_for_completion and self.stream_id:
            problems.append(
                (
                    "stream_id",
                    "cannot be combined with deferrable=True: the trigger polls the connection's "
                    "stream; use a connection for that stream instead",
                )
            )

    def execute(self, context: Context) -> str:
        campaign_id, campaign_type = self._target()
        problems: list[tuple[str, str]] = []
        self._check_stream(problems)
        _raise_problems(problems)
        status = self._status(campaign_id)
        try_number = _try_number(context)
        if status == CampaignStatus.ACTIVE.value:
            self.log.info("Campaign %s is already Active; not triggering play again.", campaign_id)
        elif status == CampaignStatus.READY.value:
            status = self._start(campaign_id, campaign_type)
        elif status == CampaignStatus.COMPLETED.value and try_number > 1:
            # The first try did not refuse it (that refusal is final), so an earlier try started it.
            self.log.info(
                "Campaign %s is already Completed on try %d: an earlier try of this task started it; "
                "not triggering play again.",
                campaign_id,
                try_number,
            )
        elif status in TERMINAL_STATUSES:
            raise CampaignAlreadyRunError(_not_startable(campaign_id, status))
        else:
            raise CampaignNotStartableError(_not_startable(campaign_id, status))
        if not self.wait_for_completion:
            return status
        if not self.deferrable:
            return self._wait_for(
                campaign_id, COMPLETION_GOAL, timeout=self.timeout, poll_interval=self.poll_interval
            )
        return self._defer_unless_done(campaign_id, campaign_type)

    def _defer_unless_done(self, campaign_id: str, campaign_type: str) -> str:
        """Check once; defer to the trigger only if the campaign has not finished yet."""
        status = self._status(campaign_id)
        if self._reached(campaign_id, status, COMPLETION_GOAL):
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
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Resume after the trigger fired: the campaign's final status, or the error the event names."""
        status = campaign_status_from_event(event, self.campaign_id)
        self.log.info("%s", event["message"])
        return status

    def _start(self, campaign_id: str, campaign_type: str) -> str:
        """Play once; after a lost answer, read the status and play again only while it is ``Ready``."""
        unanswered = False
        for attempt in range(1, self.max_start_attempts + 1):
            try:
                answer = self.hook.start_campaign(campaign_id, campaign_type)
            except (CampaignOutcomeUnknownError, CampaignServerError) as error:
                unanswered = True
                self.log.warning(
                    "Starting campaign %s may or may not have worked (attempt %d of %d): %s. "
                    "Reading its status to settle it.",
                    campaign_id,
                    attempt,
                    self.max_start_attempts,
                    error,
                )
                status = self._status(campaign_id)
                if status == CampaignStatus.READY.value:
                    _sleep(self.ambiguity_recheck_seconds)
                    status = self._status(campaign_id)
                if status == CampaignStatus.READY.value:
                    self.log.info("Campaign %s is still Ready: the play did not take effect.", campaign_id)
                    continue
                if status not in (CampaignStatus.ACTIVE.value, CampaignStatus.COMPLETED.value):
                    raise CampaignNotStartableError(
                        f"After an unanswered play, campaign {campaign_id} is {status}: "
                        "neither started by it nor startable."
                    ) from error
                self._started_campaign_id = campaign_id
                self.log.info("Campaign %s is %s: the unanswered play took effect.", campaign_id, status)
                return status
            except CampaignValidationError as error:
                status = self._status(campaign_id)
                if status == CampaignStatus.ACTIVE.value:
                    if unanswered:  # a late effect of this task's own unanswered play
                        self._started_campaign_id = campaign_id
                    self.log.info("Campaign %s was started meanwhile; it is Active.", campaign_id)
                    return status
                raise CampaignNotStartableError(
                    f"Kore.ai refused to start campaign {campaign_id} (now {status}): {error.kore_message}"
                ) from error
            self._started_campaign_id = campaign_id
            status = str(answer.get("status") or CampaignStatus.ACTIVE.value)
            self.log.info("Started campaign %s: %s (%s).", campaign_id, answer.get("message"), status)
            return status
        raise CampaignError(
            f"Gave up starting campaign {campaign_id} after {self.max_start_attempts} unanswered plays; "
            "it is still Ready."
        )

    def on_kill(self) -> None:
        """Stop the campaign if this task started it; errors are logged, never raised."""
        campaign_id = self._started_campaign_id
        if campaign_id is None:
            return
        self.log.info("Task killed: stopping campaign %s, which it started.", campaign_id)
        try:
            answer = self.hook.stop_campaign(campaign_id, CampaignType.parse(self.campaign_type).value)
        except Exception:
            self.log.exception("Could not stop campaign %s; stop it in Kore.ai.", campaign_id)
        else:
            self.log.info("Campaign %s is %s.", campaign_id, answer.get("status"))


class StopCampaignOperator(_TargetCampaignOperator):
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
        campaign_id, campaign_type = self._target()
        return _stop(self, campaign_id, campaign_type)


class DeleteCampaignOperator(_TargetCampaignOperator):
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

    def __init__(
        self,
        *,
        missing_ok: bool = True,
        stop_first: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.missing_ok = missing_ok
        self.stop_first = stop_first

    def execute(self, context: Context) -> dict[str, Any]:
        campaign_id, campaign_type = self._target()
        try:
            if self.stop_first and self._status(campaign_id) == CampaignStatus.ACTIVE.value:
                _stop(self, campaign_id, campaign_type)
            answer = self.hook.delete_campaign(campaign_id, campaign_type)
        except CampaignNotFoundError as error:
            return self._missing(campaign_id, campaign_type, error)
        data = answer.get("data")
        data = data if isinstance(data, Mapping) else {}
        summary = {
            "campaign_id": campaign_id_of(data) or campaign_id,
            "campaign_type": campaign_type,
            "name": data.get("name"),
            "status": data.get("status"),
            "deleted": True,
            "message": answer.get("message"),
        }
        self.log.info(
            "Deleted %s campaign %s (%s): %s", campaign_type, campaign_id, summary["name"], summary["message"]
        )
        return summary

    def _missing(self, campaign_id: str, campaign_type: str, error: CampaignNotFoundError) -> dict[str, Any]:
        """A 404: succeed if the campaign is gone and ``missing_ok``; it may also be of the other type."""
        if not self.missing_ok:
            raise error
        try:
            status = self._status(campaign_id)
        except CampaignNotFoundError:
            self.log.info("Campaign %s does not exist (already deleted?); nothing to delete.", campaign_id)
            return {
                "campaign_id": campaign_id,
                "campaign_type": campaign_type,
                "name": None,
                "status": None,
                "deleted": False,
                "message": error.kore_message,
            }
        raise InvalidCampaignArgumentError(
            "campaign_type",
            f"campaign {campaign_id} exists ({status}) but Kore.ai finds no {campaign_type} campaign "
            "with that id; is it of the other type?",
        ) from error


def _try_number(context: Context) -> int:
    """This try's number (1 for the first), or 1 when the context does not say."""
    number = getattr(context.get("ti"), "try_number", 1)
    return number if isinstance(number, int) and not isinstance(number, bool) else 1


def _not_startable(campaign_id: str, status: str) -> str:
    """Why a campaign in ``status`` is not started."""
    reasons = {
        CampaignStatus.PREPARING.value: "it is still being prepared; start it once it is Ready",
        CampaignStatus.COMPLETED.value: "it has already run; starting it again could message its contacts twice",
        CampaignStatus.STOPPED.value: "it was stopped; restarting it is a decision for a person in Kore.ai",
        CampaignStatus.PAUSED.value: "it is paused; resume it in Kore.ai",
        CampaignStatus.SCHEDULED.value: "it starts on its own schedule",
        CampaignStatus.RESCHEDULED.value: "it starts on its own schedule",
    }
    reason = reasons.get(status, "only a Ready campaign is started")
    return f"Campaign {campaign_id} is {status}, not Ready: {reason}."


def _stop(operator: _CampaignOperator, campaign_id: str, campaign_type: str) -> str:
    """Stop a running campaign; a stopped, completed or never started one is left as is."""
    status = operator._status(campaign_id)
    if status in TERMINAL_STATUSES:
        operator.log.info("Campaign %s is already %s; nothing to stop.", campaign_id, status)
        return status
    if status in (CampaignStatus.PREPARING.value, CampaignStatus.READY.value):
        operator.log.info("Campaign %s is %s: it was never started; nothing to stop.", campaign_id, status)
        return status
    try:
        answer = operator.hook.stop_campaign(campaign_id, campaign_type)
    except CampaignValidationError:
        status = operator._status(campaign_id)
        if status not in TERMINAL_STATUSES:
            raise
        operator.log.info("Campaign %s became %s meanwhile; nothing to stop.", campaign_id, status)
        return status
    status = str(answer.get("status") or CampaignStatus.STOPPED.value)
    operator.log.info("Stopped campaign %s: %s (%s).", campaign_id, answer.get("message"), status)
    return status
