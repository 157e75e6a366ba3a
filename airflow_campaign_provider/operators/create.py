"""What the operators that create a campaign from Kore's body share: arguments checked against the
body's model (each problem named by its argument), exactly-once creation in the hook, the wait
for ``Ready``, the id in XCom."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


class CreateCampaignFromBodyOperator(CampaignBaseOperator):
    """Base of the create operators whose arguments map one to one onto Kore's body.

    Subclasses set ``campaign_type`` and ``campaign_arguments`` (its templated fields) and build
    :meth:`body`. The settings every one takes:

    :param if_exists: ``"reuse"`` (default) reuses a same-named campaign that matches and refuses
        one that differs, naming each differing field; ``"fail"`` refuses any.
    :param wait_for_ready: Wait until the campaign leaves ``Preparing``.
    :param ready_timeout: Seconds to wait for ``Ready``.
    :param poll_interval: Seconds between two status reads while waiting.
    :param stream_id: Bot/stream id overriding the connection's.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    """

    template_fields_renderers = {"calling_hours": "json", "contact_lists": "json"}

    campaign_type: str
    campaign_arguments: Sequence[str]
    #: An argument whose rendering decides which rules apply; while templated, checks wait.
    deciding_argument: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.template_fields = ("kore_conn_id", "stream_id", *cls.campaign_arguments)

    def __init__(
        self,
        *,
        if_exists: str = "reuse",
        wait_for_ready: bool = True,
        ready_timeout: float = 600.0,
        poll_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.if_exists = if_exists
        self.wait_for_ready = wait_for_ready
        self.ready_timeout = ready_timeout
        self.poll_interval = poll_interval

    def _check_arguments(self) -> None:
        """Every rule of the (not templated) arguments, at construction; call it last in ``__init__``."""
        problems = self._problems()
        check_create_settings(
            problems, self.if_exists, self.wait_for_ready, self.ready_timeout, self.poll_interval
        )
        names = (*self.campaign_arguments, "if_exists", "wait_for_ready", "ready_timeout", "poll_interval")
        raise_problems(problems, {argument: getattr(self, argument) for argument in names})

    def body(self) -> dict[str, Any]:
        """Kore's create body from the (rendered) arguments."""
        raise NotImplementedError

    def _problems(self) -> list[tuple[str, str]]:
        """Every broken rule, by argument; a templated argument's rules wait for its rendering."""
        from airflow_campaign_provider.hooks.campaign import body_model
        from airflow_campaign_provider.models.checks import renamed, validate

        if self.deciding_argument and is_templated(getattr(self, self.deciding_argument)):
            return []  # which fields apply is not known yet
        body = self.body()
        _, problems = validate(body_model(self.campaign_type, body), body)
        return [(renamed(field, ARGUMENT_OF_FIELD), rule) for field, rule in problems]

    def _create_once(self, body: Mapping[str, Any], created_after: datetime | None) -> dict[str, Any]:
        raise NotImplementedError

    def execute(self, context: Context) -> str:
        raise_problems(self._problems())
        campaign = self._create_once(self.body(), run_began(context))
        return self._publish_created(
            context,
            campaign,
            wait_for_ready=self.wait_for_ready,
            ready_timeout=self.ready_timeout,
            poll_interval=self.poll_interval,
        )
