"""What every create operator shares, in one base class: the arguments every campaign has, the
create settings, the checks of both before any HTTP call (each problem named by its argument),
exactly-once creation (:mod:`airflow_campaign_provider.lifecycle.create`), the id in XCom and the
wait for ``Ready``. Importing it loads no hook and no model: DAG files import it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.guidance import contact_list_names, reject_contact_list_ids
from airflow_campaign_provider.operators.arguments import (
    check_create_settings,
    is_templated,
    raise_problems,
    run_began,
)
from airflow_campaign_provider.operators.base import CampaignBaseOperator

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from airflow.sdk import Context

#: The settings of every create operator: not templated, checked at construction only.
CREATE_SETTINGS = ("if_exists", "wait_for_ready", "ready_timeout", "poll_interval")

#: The arguments of every campaign created from Kore's body (templated), in this order.
COMMON_CAMPAIGN_ARGUMENTS = ("name", "description", "contact_lists", "caller_id", "calling_hours", "priority")

#: The operator argument behind each field of Kore's bodies (a field's sub-path follows it).
ARGUMENT_OF_FIELD = {
    "contactLists": "contact_lists",
    "dncLists": "dnc_list",
    "dialingMode": "dialing_mode",
    "dialingStrategy.callerId.phoneNumber": "caller_id",
    "dialingStrategy.callingHours": "calling_hours",
    "dialingStrategy.dialingOrder": "dialing_order",
    "dialingStrategy.maxAttemptsPerRecord": "max_attempts_per_record",
    "dialingStrategy.defaultRetryPeriod": "default_retry_period",
    "dialingStrategy.maxRingTime": "max_ring_time",
    "experienceFlowName": "experience_flow_name",
    "enableMachineDetect": "enable_machine_detect",
    "maxSkips": "max_skips",
    "message.message": "message",
}


def wire_priority(priority: Any) -> Any:
    """Kore's string priority from an int 1 to 5 (anything else is left for the model to judge)."""
    return str(priority) if isinstance(priority, int) and not isinstance(priority, bool) else priority


def wire_list(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


class CreateCampaignBaseOperator(CampaignBaseOperator):
    """Base of every create operator: the arguments every campaign has, the create settings, and
    in ``execute`` the exactly-once create (:meth:`_create_once`), the id in XCom and the wait
    for ``Ready``.

    A subclass sets ``campaign_type`` and ``campaign_arguments`` (its own templated arguments,
    after the common ones), builds :meth:`body` on :meth:`_common_body` (or overrides
    :meth:`_problems` and :meth:`_create_once` when its arguments are not Kore's body), and calls
    :meth:`_check_arguments` last in ``__init__``.

    :param name: Campaign name, at most 48 characters; it identifies the campaign across retries.
    :param description: At most 256 characters.
    :param contact_lists: Names of existing contact lists, at least one.
    :param caller_id: The sender: an E.164 number (SMS: also a short code or sender id).
    :param calling_hours: ``{"frequency", "timezone", "days": [{"day", "start", "end"}, ...]}``.
    :param priority: 1 to 5 (sent as the string Kore wants); higher runs first.
    :param if_exists: ``"reuse"`` (default) reuses a same-named campaign that matches and refuses
        one that differs, naming each differing field; ``"fail"`` refuses any.
    :param wait_for_ready: Wait until the campaign leaves ``Preparing``.
    :param ready_timeout: Seconds to wait for ``Ready``.
    :param poll_interval: Seconds between two status reads while waiting.
    :param stream_id: Bot/stream id overriding the connection's.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    :param hook_params: The hook's settings (create attempts, look-ups, pauses, retries).
    """

    template_fields_renderers = {"calling_hours": "json", "contact_lists": "json"}
    campaign_type: str
    campaign_arguments: Sequence[str] = ()
    #: An argument whose rendering decides which rules apply; while templated, checks wait.
    deciding_argument: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "template_fields" not in cls.__dict__:
            cls.template_fields = (
                "kore_conn_id",
                "stream_id",
                *COMMON_CAMPAIGN_ARGUMENTS,
                *cls.campaign_arguments,
            )

    def __init__(
        self,
        *,
        name: str,
        description: str,
        contact_lists: Sequence[str],
        caller_id: str,
        calling_hours: Mapping[str, Any],
        priority: int | str = 5,
        if_exists: str = "reuse",
        wait_for_ready: bool = True,
        ready_timeout: float = 600.0,
        poll_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.description = description
        self.contact_lists = contact_lists
        self.caller_id = caller_id
        self.calling_hours = calling_hours
        self.priority = priority
        self.if_exists = if_exists
        self.wait_for_ready = wait_for_ready
        self.ready_timeout = ready_timeout
        self.poll_interval = poll_interval

    def _check_arguments(self) -> None:
        """Every rule of the (not templated) arguments and the settings, at construction, in one
        error; call it last in ``__init__``."""
        reject_contact_list_ids(self)
        problems = self._problems()
        check_create_settings(
            problems, self.if_exists, self.wait_for_ready, self.ready_timeout, self.poll_interval
        )
        names = (*COMMON_CAMPAIGN_ARGUMENTS, *self.campaign_arguments, *CREATE_SETTINGS)
        raise_problems(problems, {argument: getattr(self, argument) for argument in names})

    def _common_body(self) -> dict[str, Any]:
        """The part of Kore's create body that the common arguments make."""
        return {
            "name": self.name,
            "description": self.description,
            "contactLists": wire_list(self.contact_lists),
            "campaignType": self.campaign_type,
            "priority": wire_priority(self.priority),
            "dialingStrategy": {
                "callerId": {"phoneNumber": self.caller_id},
                "callingHours": self.calling_hours,
            },
            "schedule": {"isSchedulingEnabled": False},
        }

    def body(self) -> dict[str, Any]:
        """Kore's create body from the (rendered) arguments."""
        raise NotImplementedError

    def _problems(self) -> list[tuple[str, str]]:
        """Every broken rule, by argument; a templated argument's rules wait for its rendering."""
        from airflow_campaign_provider.models.bodies import body_model
        from airflow_campaign_provider.models.checks import renamed, validate

        if self.deciding_argument and is_templated(getattr(self, self.deciding_argument)):
            return []  # which fields apply is not known yet
        body = self.body()
        _, problems = validate(body_model(self.campaign_type, body), body)
        return [(renamed(field, ARGUMENT_OF_FIELD), rule) for field, rule in problems]

    def _create_once(self, created_after: datetime | None) -> dict[str, Any]:
        """Check the rendered arguments, then create the campaign exactly once; ``created_after``:
        when the task's run began (its look-ups by name read only since then)."""
        raise_problems(self._problems())
        return self._create_from_body(self.body(), created_after)

    def _create_from_body(self, body: Mapping[str, Any], created_after: datetime | None) -> dict[str, Any]:
        """Create the campaign ``body`` describes through the hook's exactly-once method."""
        raise NotImplementedError

    def execute(self, context: Context) -> str:
        """Push the id to XCom at once (so a teardown finds it even if the wait fails), then
        optionally wait out ``Preparing``; return the id."""
        from airflow_campaign_provider.api import campaign_id_of
        from airflow_campaign_provider.exceptions import CampaignError
        from airflow_campaign_provider.status import READY_GOAL, CampaignStatus

        self.contact_lists = contact_list_names(self.hook, self.task_id, self.contact_lists)
        campaign = self._create_once(run_began(context))
        campaign_id = campaign_id_of(campaign)
        if campaign_id is None:  # parse_campaign guarantees an id; this keeps the type honest
            raise CampaignError(f"Kore.ai returned campaign {campaign.get('name')!r} without an id.")
        context["ti"].xcom_push(key="campaign_id", value=campaign_id)
        if self.wait_for_ready and campaign.get("status") != CampaignStatus.READY.value:
            self.hook.wait_for_campaign_status(
                campaign_id, READY_GOAL, timeout=self.ready_timeout, poll_interval=self.poll_interval
            )
        return campaign_id


#: The base of the operators built from Kore's body, under its first name: now the one base.
CreateFromBodyBaseOperator = CreateCampaignBaseOperator
