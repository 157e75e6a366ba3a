"""Contact-list bodies: create, update, and the contacts ``addContacts`` adds.

The hook checks a body with these models before any HTTP call; the sandbox validates what it
receives with the very same ones. The rules (48-character name, 256-character description,
E.164) are the shared types of :mod:`.common`.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from airflow_campaign_provider.models.common import (
    CampaignName,
    Description,
    E164Phone,
    arguments_error,
    broken,
)

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


class Contact(_Body):
    """One contact of an ``addContacts`` body."""

    phoneNumber: E164Phone


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
