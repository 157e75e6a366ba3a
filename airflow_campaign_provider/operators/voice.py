"""CreateVoiceCampaignOperator: create a Kore.ai voice campaign (agentless, progressive, preview)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.operators.create import CreateFromBodyBaseOperator

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


class CreateVoiceCampaignOperator(CreateFromBodyBaseOperator):
    """
    Create a Kore.ai voice campaign, exactly once, and return its id (also XCom ``campaign_id``).

    Every documented rule is checked before any HTTP call (at construction where the argument is
    not templated, again after rendering), one error naming every argument at fault. The hook's
    :meth:`~airflow_campaign_provider.hooks.campaign.CampaignHook.create_voice_campaign_once` does
    the work: a same-named voice campaign is reused when it matches and refused naming every
    differing field otherwise; after an ambiguous failure the name is looked up before any new
    attempt. Kore answers a voice create with ``id`` (not ``_id``) and status ``Preparing``; with
    ``wait_for_ready`` the task waits until it leaves ``Preparing``.

    :param name: At most 48 characters; how a retried task finds its campaign.
    :param description: At most 256 characters.
    :param contact_lists: Names of existing contact lists, 1 to 10.
    :param dnc_list: Name of the Do-Not-Call list: required for voice.
    :param caller_id: The number shown to the callee, E.164 (``+14155550100``).
    :param calling_hours: ``{"frequency": "WEEKLY"|"DAILY"|"CUSTOM", "timezone": "Asia/Kolkata",
        "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}, ...]}``.
    :param dialing_mode: ``"Agentless"`` (a bot flow calls), ``"Progressive"`` or ``"Preview"``
        (agents in a queue take the calls; in Preview they see the contact first).
    :param priority: 1 to 5; higher runs first.
    :param dialing_order: ``"FIFO"`` (default) or ``"LIFO"``.
    :param max_attempts_per_record: Calls per contact at most, 1 to 100 (default 3).
    :param default_retry_period: Minutes between two attempts, 1 to 1440 (default 10).
    :param max_ring_time: Seconds a call rings, 5 to 120 (default 30).
    :param experience_flow_name: The flow (bot or IVR) that talks; required for Agentless.
    :param enable_machine_detect: ``"no"``, ``"detect"`` or ``"disconnect"``; Agentless only
        (``"no"`` when left out).
    :param queue_name: The agents' queue; required for Progressive and Preview.
    :param max_skips: Preview only, required there: skips an agent may make before the contact
        is flagged.

    ``if_exists``, ``wait_for_ready``, ``ready_timeout``, ``poll_interval``, ``stream_id`` and
    ``kore_conn_id`` are those of every create operator (see ``CreateFromBodyBaseOperator``).
    """

    campaign_type = "voice"
    campaign_arguments = (
        "dnc_list",
        "dialing_mode",
        "dialing_order",
        "max_attempts_per_record",
        "default_retry_period",
        "max_ring_time",
        "experience_flow_name",
        "enable_machine_detect",
        "queue_name",
        "max_skips",
    )
    deciding_argument = "dialing_mode"

    def __init__(
        self,
        *,
        dnc_list: str,
        dialing_mode: str,
        dialing_order: str = "FIFO",
        max_attempts_per_record: int = 3,
        default_retry_period: int = 10,
        max_ring_time: int = 30,
        experience_flow_name: str | None = None,
        enable_machine_detect: str | None = None,
        queue_name: str | None = None,
        max_skips: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dnc_list = dnc_list
        self.dialing_mode = dialing_mode
        self.dialing_order = dialing_order
        self.max_attempts_per_record = max_attempts_per_record
        self.default_retry_period = default_retry_period
        self.max_ring_time = max_ring_time
        self.experience_flow_name = experience_flow_name
        self.enable_machine_detect = enable_machine_detect
        self.queue_name = queue_name
        self.max_skips = max_skips
        self._check_arguments()

    def body(self) -> dict[str, Any]:
        """Kore's create body from the (rendered) arguments."""
        machine_detect = self.enable_machine_detect
        if machine_detect is None and self.dialing_mode == "Agentless":
            machine_detect = "no"
        body = self._common_body()
        body["dialingStrategy"] |= {
            "dialingOrder": self.dialing_order,
            "maxAttemptsPerRecord": self.max_attempts_per_record,
            "defaultRetryPeriod": self.default_retry_period,
            "maxRingTime": self.max_ring_time,
        }
        optional = {
            "experienceFlowName": self.experience_flow_name,
            "enableMachineDetect": machine_detect,
            "queue_name": self.queue_name,
            "maxSkips": self.max_skips,
        }
        body |= {"dncLists": {"name": self.dnc_list}, "dialingMode": self.dialing_mode}
        return body | {key: value for key, value in optional.items() if value is not None}

    def _create_from_body(self, body: Mapping[str, Any], created_after: datetime | None) -> dict[str, Any]:
        return self.hook.create_voice_campaign_once(
            body, if_exists=self.if_exists, created_after=created_after
        )
