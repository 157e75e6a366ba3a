"""The create (and update) body of a voice campaign, as Kore's three voice pages write it.

``POST {B}?accountId=…&campaignType=voice`` (agentless, progressive and preview pages) and
``PUT {B}/{campaignId}?campaignType=voice`` take the same full object. What differs by
``dialingMode``: Agentless needs ``experienceFlowName`` and ``enableMachineDetect``; Progressive
and Preview need ``queue_name``, Preview also ``maxSkips``. A DNC list is required for voice.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from airflow_campaign_provider import rules
from airflow_campaign_provider.models.checks import field_errors

DIALING_MODES = ("Agentless", "Progressive", "Preview")
DIALING_ORDERS = ("FIFO", "LIFO")
MACHINE_DETECT_CHOICES = ("no", "detect", "disconnect")
#: Per dialing mode: the fields it requires and the ones it has no use for.
MODE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Agentless": (("experienceFlowName", "enableMachineDetect"), ("queue_name", "maxSkips")),
    "Progressive": (("queue_name",), ("maxSkips",)),
    "Preview": (("queue_name", "maxSkips"), ()),
}

Text = Annotated[str, Field(strict=True, min_length=1, pattern=r"\S")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NamedList(_Strict):
    """``{"name": …}``: how a body names its DNC list."""

    name: Text


class CallerId(_Strict):
    phoneNumber: Annotated[str, Field(strict=True, pattern=f"^{rules.E164.pattern}$")]


class CallingDay(_Strict):
    day: Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    start: Annotated[str, Field(strict=True, pattern=f"^{rules.TIME_OF_DAY.pattern}$")]
    end: Annotated[str, Field(strict=True, pattern=f"^{rules.TIME_OF_DAY.pattern}$")]


class CallingHours(_Strict):
    frequency: Literal["WEEKLY", "DAILY", "CUSTOM"]
    timezone: Text
    days: Annotated[list[CallingDay], Field(min_length=1)]


class VoiceDialingStrategy(_Strict):
    """Caller id, calling hours and the dialer's documented ranges."""

    callerId: CallerId
    callingHours: CallingHours
    dialingOrder: Literal["FIFO", "LIFO"]
    maxAttemptsPerRecord: Annotated[int, Field(strict=True, ge=1, le=100)]
    defaultRetryPeriod: Annotated[int, Field(strict=True, ge=1, le=1440, description="minutes")]
    maxRingTime: Annotated[int, Field(strict=True, ge=5, le=120, description="seconds")]


class SchedulingFlag(_Strict):
    isSchedulingEnabled: bool = False


class VoiceCampaignBody(_Strict):
    """A voice campaign's full object, as created and as updated."""

    name: Annotated[str, Field(strict=True, min_length=1, max_length=rules.MAX_NAME_LENGTH, pattern=r"\S")]
    description: Annotated[str, Field(strict=True, max_length=rules.MAX_DESCRIPTION_LENGTH)]
    contactLists: Annotated[list[Text], Field(min_length=1, max_length=10)]
    dncLists: NamedList
    priority: Literal["1", "2", "3", "4", "5"]
    dialingMode: Literal["Agentless", "Progressive", "Preview"]
    dialingStrategy: VoiceDialingStrategy
    schedule: SchedulingFlag = SchedulingFlag()
    experienceFlowName: Text | None = None
    enableMachineDetect: Literal["no", "detect", "disconnect"] | None = None
    queue_name: Text | None = None
    maxSkips: Annotated[int, Field(strict=True, ge=0)] | None = None
    campaignType: Literal["voice"] = "voice"

    @model_validator(mode="after")
    def _fields_of_the_mode(self) -> VoiceCampaignBody:
        required, unused = MODE_FIELDS[self.dialingMode]
        missing = [name for name in required if getattr(self, name) is None]
        extra = [name for name in unused if getattr(self, name) is not None]
        problems = [(name, f"is required when dialingMode is {self.dialingMode}") for name in missing]
        problems += [(name, f"does not apply when dialingMode is {self.dialingMode}") for name in extra]
        if problems:
            raise field_errors(type(self).__name__, problems)
        return self

    def to_wire(self) -> dict[str, Any]:
        """The JSON body Kore documents (fields left unset are left out)."""
        return self.model_dump(exclude_none=True)


#: Kore's largest page of per-contact results.
MAX_CONTACTS_PAGE = 100


class ContactsPage(_Strict):
    """The body of ``POST {B}/{campaignId}/status?view=contacts``: which page of results."""

    page: Annotated[int, Field(strict=True, ge=1)] = 1
    limit: Annotated[int, Field(strict=True, ge=1, le=MAX_CONTACTS_PAGE)] = MAX_CONTACTS_PAGE
