"""CreateSmsTextCampaignOperator: an SMS campaign without a template, plain text or a flow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.operators.create import CreateFromBodyBaseOperator

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


class CreateSmsTextCampaignOperator(CreateFromBodyBaseOperator):
    """
    Create a Kore.ai SMS campaign without a template, exactly once; returns its id (XCom
    ``campaign_id`` too). The sibling of ``CreateSmsCampaignOperator``, which sends a template.

    ``format="simple"`` sends ``message``, plain text (base64-encoded on the way, as Kore wants).
    ``format="advanced"`` hands the conversation to an experience flow (``experience_flow_name``)
    and sends no message. Kore's advanced-format page contradicts itself (its table says "Use
    simple" and requires a message); this follows its sample: ``format: "advanced"``,
    ``experienceFlowName``, no message.

    Every rule is checked before any HTTP call, each problem named by its argument. A same-named
    SMS campaign is reused when it matches and refused otherwise (``if_exists``); after an
    ambiguous failure the name is looked up before any new attempt.

    :param name: At most 48 characters; how a retried task finds its campaign.
    :param description: At most 256 characters.
    :param contact_lists: Names of existing contact lists, at least one.
    :param caller_id: Sender number in E.164 form.
    :param calling_hours: ``{"frequency", "timezone", "days": [{"day", "start", "end"}]}`` as for
        ``CreateSmsCampaignOperator``.
    :param format: ``"simple"`` (default) or ``"advanced"``.
    :param message: The text to send (simple).
    :param experience_flow_name: The flow that converses (advanced).
    :param priority: 1 to 5.
    :param dnc_list: Name of a Do-Not-Call list, or None.

    ``if_exists``, ``wait_for_ready``, ``ready_timeout``, ``poll_interval``, ``stream_id`` and
    ``kore_conn_id`` are those of every create operator (see ``CreateFromBodyBaseOperator``).
    """

    campaign_type = "sms"
    campaign_arguments = ("format", "message", "experience_flow_name", "dnc_list")
    deciding_argument = "format"

    def __init__(
        self,
        *,
        format: str = "simple",
        message: str | None = None,
        experience_flow_name: str | None = None,
        dnc_list: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.format = format
        self.message = message
        self.experience_flow_name = experience_flow_name
        self.dnc_list = dnc_list
        self._check_arguments()

    def body(self) -> dict[str, Any]:
        """Kore's create body from the (rendered) arguments."""
        from airflow_campaign_provider.models.common import encode_message

        body = self._common_body() | {"format": self.format}
        if self.message is not None:
            text = self.message
            body["message"] = {"message": encode_message(text) if isinstance(text, str) else text}
        elif self.format != "advanced":
            body["message"] = {}  # the model names message.message as required
        if self.experience_flow_name is not None:
            body["experienceFlowName"] = self.experience_flow_name
        if self.dnc_list is not None:
            body["dncLists"] = {"name": self.dnc_list}
        return body

    def _create_from_body(self, body: Mapping[str, Any], created_after: datetime | None) -> dict[str, Any]:
        return self.hook.create_sms_text_campaign_once(
            body, if_exists=self.if_exists, created_after=created_after
        )
