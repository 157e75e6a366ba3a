"""The create-SMS-campaign request as operator arguments: checked, built, and compared.

``SmsCampaignSpec`` holds what a DAG asks for, as given (templated values may still be anything).
It checks them with :class:`~airflow_campaign_provider.models.campaign.SmsCampaignArguments`
(every broken rule at once, each naming its argument and the rule), builds the documented
request body, and tells which fields of an existing campaign differ from it, which is what lets
a retried task reuse its own campaign instead of creating a second one. No Airflow and no HTTP here: it is cheap to import and to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from airflow_campaign_provider.exceptions import CampaignArgumentsError
from airflow_campaign_provider.models.campaign import SmsCampaignArguments
from airflow_campaign_provider.models.common import arguments_error

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class SmsCampaignSpec:
    """An SMS campaign from a template, as the operator's arguments describe it.

    :param name: Campaign name, at most 48 characters; how a retried task finds its campaign.
    :param description: At most 256 characters.
    :param contact_lists: Names of existing contact lists, at least one.
    :param template_name: The pre-approved template's name.
    :param message: The template's body as plain text (sent base64-encoded).
    :param caller_id: The sender: an E.164 number, a short code or an alphanumeric sender id.
    :param calling_hours: ``{"frequency": "WEEKLY"|"DAILY"|"CUSTOM", "timezone": <IANA>,
        "days": [{"day": "MO"…"SU", "start": "9:00 AM", "end": "6:00 PM"}, …]}``.
    :param priority: 1 to 5.
    :param format: ``"simple"``, the one format the create page documents.
    :param dnc_list: Name of a Do-Not-Call list, or None.
    """

    @property
    def campaign_type(self) -> str:
        """What kind of campaign this describes, for the hook's create-once."""
        return "sms"

    name: Any
    description: Any
    contact_lists: Any
    template_name: Any
    message: Any
    caller_id: Any
    calling_hours: Any
    priority: Any = 5
    format: Any = "simple"
    dnc_list: Any = None

    def arguments(self) -> SmsCampaignArguments:
        """The validated arguments; raises ``CampaignArgumentsError`` listing every broken rule."""
        try:
            return SmsCampaignArguments.model_validate(
                {name: getattr(self, name) for name in SmsCampaignArguments.model_fields}
            )
        except ValidationError as error:
            raise arguments_error(error) from None

    def problems(self) -> list[tuple[str, str]]:
        """Every broken rule as ``(field, rule)``; empty when the spec is valid."""
        try:
            self.arguments()
        except CampaignArgumentsError as error:
            return error.problems
        return []

    def check(self) -> None:
        """Raise ``CampaignArgumentsError`` listing every broken rule."""
        self.arguments()

    def to_body(self) -> dict[str, Any]:
        """The documented create body; raises ``CampaignArgumentsError`` first if anything is wrong."""
        return self.arguments().to_body()

    def differences(self, campaign: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """``(differing, unchecked)``: how ``campaign`` differs from this spec, one
        ``"field: asked …, found …"`` line per field named by its argument, and the fields it does
        not show (Kore's answers vary, so those are not held against it). Call it on a valid spec.

        The one rule every create compares by (:func:`~airflow_campaign_provider.models.update.wire_differences`):
        lists compare as sets, times regardless of a leading zero, the message as decoded text.
        """
        from airflow_campaign_provider.models.update import wire_differences

        asked = {"dncLists": {"name": None}, **self.to_body()}  # no DNC list asked: none must be used
        return wire_differences(asked, campaign, self.campaign_type, ARGUMENT_OF_FIELD)


#: The argument behind each field of the create body, naming a difference as the DAG wrote it.
ARGUMENT_OF_FIELD = {
    "contactLists": "contact_lists",
    "message.template_name": "template_name",
    "message.message": "message",
    "dialingStrategy.callerId.phoneNumber": "caller_id",
    "dialingStrategy.callingHours": "calling_hours",
    "dncLists.name": "dnc_list",
}

#: The arguments a spec is made of, in the order their problems are listed.
SPEC_FIELDS = tuple(SmsCampaignSpec.__dataclass_fields__)
