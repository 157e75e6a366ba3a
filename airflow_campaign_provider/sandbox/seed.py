"""Reference data the sandbox starts with: contact lists, DNC lists, templates and campaigns.

The default seed holds the names that Kore.ai's documentation samples use (contact list
"CL Only 2020 Dec 4", DNC list "testdnc", template "Welcome"), so the documented sample
requests succeed as written. A seed can also be loaded from a JSON file of the same shape
as `Seed.to_dict()` (see `config.load_seed`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SAMPLE_CONTACT_LIST = "CL Only 2020 Dec 4"
SAMPLE_DNC_LIST = "testdnc"
SAMPLE_TEMPLATE = "Welcome"
SAMPLE_TEMPLATE_ID = "cmt-88fcd16f-bdb2-4d4d-8a2c-0324c7f5a4d0"
SAMPLE_CALLER_ID = "+919561612345"
# The documented sample's base64 is masked at its tail ("...herqxxxxx"); this is the sentence
# it encodes, completed ("... send us a reply right here.").
WELCOME_BODY = (
    "Greetings, <First Name>! We're thrilled to have you join us. Access our top three beginner's "
    "tips by clicking on this link: https://yourwebsite.com/tips. If you have any inquiries, "
    "don't hesitate to send us a reply right here."
)
SAMPLE_CONTACTS = ["+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105"]
SAMPLE_DNC_CONTACTS = ["+14155550103"]
VOICE_SAMPLE_DNC_LIST = "DNC CL Dec 4"


@dataclass
class Template:
    """A pre-approved message template: its id and the exact body a campaign must encode."""

    body: str
    id: str = ""


@dataclass
class Seed:
    """Named contact lists and DNC lists (phone numbers in E.164), templates and campaigns."""

    contact_lists: dict[str, list[str]] = field(default_factory=dict)
    dnc_lists: dict[str, list[str]] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    campaigns: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from airflow_campaign_provider.models.common import is_e164  # pydantic: not at import

        for kind, lists in (("contact_lists", self.contact_lists), ("dnc_lists", self.dnc_lists)):
            for name, phones in lists.items():
                bad = [p for p in phones if not is_e164(p)]
                if bad:
                    raise ValueError(f"{kind}[{name!r}]: not E.164 phone numbers: {bad}")

    def to_dict(self) -> dict[str, Any]:
        """The seed as plain JSON-able data (the format `load_seed` reads)."""
        return asdict(self)


def default_seed() -> Seed:
    """The seed matching the documentation samples; a fresh copy on every call."""
    return Seed(
        contact_lists={SAMPLE_CONTACT_LIST: list(SAMPLE_CONTACTS)},
        dnc_lists={SAMPLE_DNC_LIST: list(SAMPLE_DNC_CONTACTS), VOICE_SAMPLE_DNC_LIST: ["+14155550104"]},
        templates={SAMPLE_TEMPLATE: Template(body=WELCOME_BODY, id=SAMPLE_TEMPLATE_ID)},
    )


def sample_create_body(name: str = "Billing Alert Template Campaign-21212") -> dict[str, Any]:
    """The documented create-SMS-from-template request body, valid against the default seed."""
    from airflow_campaign_provider.models.common import encode_message  # pydantic: not at import

    weekdays = ["MO", "TU", "WE", "TH", "FR"]
    return {
        "name": name,
        "description": (
            "Uses a pre-approved message template to alert customers about pending bills. "
            "Includes dynamic fields for customer name, due date, and bill amount"
        ),
        "contactLists": [SAMPLE_CONTACT_LIST],
        "dncLists": {"name": SAMPLE_DNC_LIST},
        "campaignType": "sms",
        "priority": "5",
        "format": "simple",
        "message": {"template_name": SAMPLE_TEMPLATE, "message": encode_message(WELCOME_BODY)},
        "dialingStrategy": {
            "callerId": {"phoneNumber": SAMPLE_CALLER_ID},
            "callingHours": {
                "frequency": "WEEKLY",
                "timezone": "Asia/Kolkata",
                "days": [{"day": d, "start": "9:00 AM", "end": "6:00 PM"} for d in weekdays],
            },
        },
    }


def sample_voice_body(
    name: str = "Product Feedback Voice Campaign-3.41", dialing_mode: str = "Agentless"
) -> dict[str, Any]:
    """The documented create-voice-campaign body for ``dialing_mode``, valid against the default seed."""
    sample = sample_create_body(name)
    by_mode: dict[str, dict[str, Any]] = {
        "Agentless": {"experienceFlowName": "Voice Survey Entry Flow", "enableMachineDetect": "no"},
        "Progressive": {"queue_name": "Default Queue"},
        "Preview": {"queue_name": "Default Queue", "maxSkips": 1},
    }
    return {
        "name": name,
        "description": "This voice campaign collects quick feedback on recent purchases.",
        "contactLists": [SAMPLE_CONTACT_LIST],
        "dncLists": {"name": VOICE_SAMPLE_DNC_LIST},
        "priority": "5",
        "dialingMode": dialing_mode,
        "dialingStrategy": {
            **sample["dialingStrategy"],
            "callerId": {"phoneNumber": "+14846512345"},
            "dialingOrder": "FIFO",
            "maxAttemptsPerRecord": 3,
            "defaultRetryPeriod": 10,
            "maxRingTime": 30,
        },
        "schedule": {"isSchedulingEnabled": False},
        **by_mode[dialing_mode],
        "campaignType": "voice",
    }
