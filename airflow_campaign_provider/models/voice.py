"""The create (and update) body of a voice campaign, as Kore's three voice pages write it.

``POST {B}?accountId=…&campaignType=voice`` (agentless, progressive and preview pages) and
``PUT {B}/{campaignId}?campaignType=voice`` take the same full object. What differs by
``dialingMode``: Agentless needs ``experienceFlowName`` and ``enableMachineDetect``; Progressive
and Preview need ``queue_name``, Preview also ``maxSkips``. A DNC list is required for voice.
Built from the shared types of :mod:`.common` and :mod:`.campaign`, so a name, a priority, a
caller id or calling hours obey the very same rules as in an SMS body.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from airflow_campaign_provider.models.campaign import (
    DialingStrategy,
    FreeCampaignName,
    KnownContactList,
    KnownDncList,
)
from airflow_campaign_provider.models.checks import field_errors
from airflow_campaign_provider.models.common import Description, Name, Priority, choice, whole_number

DIALING_MODES = ("Agentless", "Progressive", "Preview")
DIALING_ORDERS = ("FIFO", "LIFO")
MACHINE_DETECT_CHOICES = ("no", "detect", "disconnect")
#: Kore's overview: at most 10 contact lists per campaign.
MAX_CONTACT_LISTS = 10
#: Per dialing mode: the fields it requires and the ones it has no use for.
MODE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Agentless": (("experienceFlowName", "enableMachineDetect"), ("queue_name", "maxSkips")),
    "Progressive": (("queue_name",), ("maxSkips",)),
    "Preview": (("queue_name", "maxSkips"), ()),
}
_STRICT = ConfigDict(extra="forbid", frozen=True)


class VoiceDncList(BaseModel):
    """``{"name": …}``: the DNC list a voice campaign must name."""

    model_config = _STRICT

    name: KnownDncList


class VoiceDialingStrategy(DialingStrategy):
    """Caller id and calling hours, plus the dialer's documented ranges."""

    model_config = _STRICT

    dialingOrder: Annotated[str, choice(*DIALING_ORDERS)]
    maxAttemptsPerRecord: Annotated[int, whole_number(1, 100)]
    defaultRetryPeriod: Annotated[int, whole_number(1, 1440), Field(description="minutes")]
    maxRingTime: Annotated[int, whole_number(5, 120), Field(description="seconds")]


class SchedulingFlag(BaseModel):
    model_config = _STRICT

    isSchedulingEnabled: bool = False


class VoiceCampaignBody(BaseModel):
    """A voice campaign's full object, as created and as updated."""

    model_config = _STRICT

    name: FreeCampaignName
    description: Description
    contactLists: Annotated[list[KnownContactList], Field(min_length=1, max_length=MAX_CONTACT_LISTS)]
    dncLists: VoiceDncList
    priority: Priority
    dialingMode: Annotated[str, choice(*DIALING_MODES)]
    dialingStrategy: VoiceDialingStrategy
    schedule: SchedulingFlag = SchedulingFlag()
    experienceFlowName: Name | None = None
    enableMachineDetect: Annotated[str, choice(*MACHINE_DETECT_CHOICES)] | None = None
    queue_name: Name | None = None
    maxSkips: Annotated[int, whole_number(0, 1000)] | None = None
    campaignType: Annotated[str, choice("voice")] = "voice"

    @model_validator(mode="after")
    def _fields_of_the_mode(self) -> VoiceCampaignBody:
        required, unused = MODE_FIELDS[self.dialingMode]
        problems = [
            (name, f"is required when dialingMode is {self.dialingMode}")
            for name in required
            if getattr(self, name) is None
        ]
        problems += [
            (name, f"does not apply when dialingMode is {self.dialingMode}")
            for name in unused
            if getattr(self, name) is not None
        ]
        if problems:
            raise field_errors(type(self).__name__, problems)
        return self

    def to_wire(self) -> dict[str, Any]:
        """The JSON body Kore documents (fields left unset are left out)."""
        return self.model_dump(exclude_none=True)


#: Kore's largest page of per-contact results.
MAX_CONTACTS_PAGE = 100


class ContactsPage(BaseModel):
    """The body of ``POST {B}/{campaignId}/status?view=contacts``: which page of results."""

    model_config = _STRICT

    page: Annotated[int, whole_number(1, 10**9)] = 1
    limit: Annotated[int, whole_number(1, MAX_CONTACTS_PAGE)] = MAX_CONTACTS_PAGE
