"""Contact-list bodies: create, update, and the contacts ``addContacts`` adds.

The hook checks a body with these models before any HTTP call; the sandbox validates what it
receives with the very same ones. The rules (48-character name, 256-character description,
a readable phone number) are the shared types of :mod:`.common` and :mod:`..phones`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from airflow_campaign_provider.models.common import (
    CampaignName,
    Description,
    arguments_error,
    broken,
    checked_text,
)
from airflow_campaign_provider.phones import PhoneNumberProblem, to_e164

#: The only ``source`` Kore accepts for a list filled through the API.
PASSIVE_API_SOURCE: Literal["passiveApi"] = "passiveApi"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def wire(self) -> dict[str, Any]:
        """The JSON body as Kore spells it, optional fields left out when unset."""
        return self.model_dump(exclude_none=True)


class ContactListCreate(_Body):
    """``POST …/contactList/createContactList``; ``allowDuplicates`` defaults to false, as on Kore."""

    name: CampaignName
    description: Description
    source: Literal["passiveApi"] = PASSIVE_API_SOURCE
    allowDuplicates: bool = Field(default=False, strict=True)


class ContactListUpdate(_Body):
    """``PUT …/contactList/{id}``: a new name, a new description, or both."""

    name: CampaignName | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> ContactListUpdate:
        if self.name is None and self.description is None:
            raise broken("nothing_to_change", "give a name, a description or both")
        return self


def _readable(phone: str) -> bool:
    try:
        to_e164(phone)
    except PhoneNumberProblem:
        return False
    return True


#: Kore takes a number "in international or local format" and writes it back as digits without
#: ``+`` (its sample sends ``"9122333445566"``); the provider sends E.164.
ContactPhone = Annotated[
    str,
    checked_text(
        "must be a phone number in international format, like +14155550100 or 14155550100",
        _readable,
        example="+14155550100",
    ),
]


class Contact(_Body):
    """One contact of an ``addContacts`` body."""

    phoneNumber: ContactPhone


class AddContactsBody(_Body):
    """``POST /api/1.1/public/{iid}/campaign/contactList/addContacts``."""

    contact_list_name: CampaignName
    data: list[Contact] = Field(min_length=1)


BodyT = TypeVar("BodyT", bound=_Body)


def checked(model: type[BodyT], **fields: Any) -> BodyT:
    """Build ``model``, or raise ``CampaignArgumentsError`` naming every bad field at once."""
    try:
        return model(**fields)
    except ValidationError as error:
        raise arguments_error(error) from None
