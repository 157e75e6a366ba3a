"""The bodies of Kore's contact-list calls, declared once for the client and the sandbox.

The hook checks a body with these models before any HTTP call; the sandbox validates what it
receives with the very same ones, so the two can never drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from airflow_campaign_provider.exceptions import InvalidCampaignArgumentError
from airflow_campaign_provider.rules import E164, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH

#: The only ``source`` Kore accepts for a list filled through the API.
PASSIVE_API_SOURCE: Literal["passiveApi"] = "passiveApi"

ListName = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"\S"), Field(strict=True)
]
ListDescription = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_LENGTH), Field(strict=True)]
PhoneNumber = Annotated[str, StringConstraints(pattern=f"^{E164.pattern}$"), Field(strict=True)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def wire(self) -> dict[str, Any]:
        """The JSON body as Kore spells it, optional fields left out when unset."""
        return self.model_dump(by_alias=True, exclude_none=True)


class ContactListCreate(_Body):
    """``POST …/contactList/createContactList``: ``allowDuplicates`` defaults to false, as on Kore."""

    name: ListName
    description: ListDescription
    source: Literal["passiveApi"] = PASSIVE_API_SOURCE
    allowDuplicates: bool = Field(default=False, strict=True)


class ContactListUpdate(_Body):
    """``PUT …/contactList/{id}``: a new name, a new description, or both."""

    name: ListName | None = None
    description: ListDescription | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> ContactListUpdate:
        if self.name is None and self.description is None:
            raise ValueError("give a name, a description or both")
        return self


class Contact(_Body):
    """One contact of an ``addContacts`` body."""

    phoneNumber: PhoneNumber


class AddContactsBody(_Body):
    """``POST /api/1.1/public/{iid}/campaign/contactList/addContacts``."""

    contact_list_name: ListName
    data: list[Contact] = Field(min_length=1)


def problems_of(error: ValidationError) -> list[str]:
    """``field: rule`` for every problem pydantic found, in body order."""
    out = []
    for item in error.errors():
        where = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in item["loc"])
        out.append(f"{where.replace('.[', '[') or 'body'}: {item['msg']}")
    return out


BodyT = TypeVar("BodyT", bound=_Body)


def checked(model: type[BodyT], **fields: Any) -> BodyT:
    """Build ``model`` or raise ``InvalidCampaignArgumentError`` naming every bad field at once."""
    try:
        return model(**fields)
    except ValidationError as error:
        found = problems_of(error)
        field = found[0].partition(":")[0] if len(found) == 1 else "body"
        rule = found[0].partition(": ")[2] if len(found) == 1 else "; ".join(found)
        raise InvalidCampaignArgumentError(field, rule) from None
