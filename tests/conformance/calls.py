"""Each Kore page, the provider's call for it, and where we follow another page.

For every page with a sample: ``setup`` gives the sandbox what the call needs (a campaign, a
list), ``build`` is the request the provider itself builds for the same call, ``parse`` the
provider's own parser of the answer. ``follows`` says, where two pages contradict each other,
which one the provider follows (``/work/shared/API-CONTRACT.md``, "Where the pages contradict"),
and which request differences that explains; nothing else may differ.
"""

from __future__ import annotations

import copy
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.api import (
    ApiAnswer,
    ApiRequest,
    CampaignRequests,
    ContactListRequests,
    parse_campaign,
    parse_contact_list,
    parse_contact_lists,
    parse_contact_results,
    parse_contacts_page,
    parse_contacts_queued,
    parse_deleted,
    parse_page,
    parse_schedule,
    parse_status,
    parse_trigger,
)
from airflow_campaign_provider.models.common import encode_message
from airflow_campaign_provider.models.contact_list import (
    AddContactsBody,
    ContactListCreate,
    ContactListUpdate,
)
from airflow_campaign_provider.models.schedule import schedule_body
from airflow_campaign_provider.sandbox.seed import WELCOME_BODY

if TYPE_CHECKING:
    from airflow_campaign_provider.hooks.campaign import CampaignHook
    from airflow_campaign_provider.sandbox import SandboxServer
    from tests.conformance.kore_pages import KorePage

#: Lists and campaigns of the sandbox's default seed that sample bodies name.
SEED_LIST = "CL Only 2020 Dec 4"
SEED_DNC = "testdnc"
#: Fields the sandbox keeps of its own when a campaign is seeded from a sample.
OWN_FIELDS = ("_id", "id", "status", "schedule")
_names = itertools.count(1)


@dataclass
class Ctx:
    """What one call runs against: the sandbox, a hook on it, the ids ``setup`` made."""

    sandbox: SandboxServer
    hook: CampaignHook
    page: KorePage
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def campaigns(self) -> CampaignRequests:
        return CampaignRequests(self.hook.settings)

    @property
    def lists(self) -> ContactListRequests:
        return ContactListRequests(self.hook.settings)

    @property
    def sample_body(self) -> Any:
        return copy.deepcopy(self.page.requests[0].body)


Setup = Callable[[Ctx], None]
Build = Callable[[Ctx], ApiRequest]


@dataclass(frozen=True)
class Call:
    """One documented call: how to set it up, build it and parse its answer."""

    setup: Setup
    build: Build
    parse: Callable[[ApiAnswer], Any]
    follows: str = ""
    #: Query parameters we send that the page's sample does not (each explained in ``follows``).
    extra_query: frozenset[str] = frozenset()
    missing_query: frozenset[str] = frozenset()
    path_differs: bool = False
    #: Body keys we send that the page's sample does not (each explained in ``follows``).
    extra_body: frozenset[str] = frozenset()
    #: Paths (and all below them) of the sample's answer the sandbox does not reproduce, with why.
    sandbox_omits: dict[str, str] = field(default_factory=dict)


def unique(prefix: str) -> str:
    return f"{prefix} {next(_names)}-{time.monotonic_ns() % 10**6}"


# --- setups --------------------------------------------------------------------------------------


def nothing(ctx: Ctx) -> None:
    """The call needs nothing but the seed."""


def sample_campaign(ctx: Ctx, campaign_type: str) -> dict[str, Any]:
    """The page's own campaign (its answer's ``data``, or a listed one), to seed the sandbox with."""
    for answer in ctx.page.answers:
        data = answer.get("data") if isinstance(answer, dict) else None
        if isinstance(data, dict) and "results" in data:
            data = next(iter(data["results"]), None)
        if isinstance(data, dict) and "name" in data and "contactLists" in data:
            return {k: v for k, v in copy.deepcopy(data).items() if k not in OWN_FIELDS}
    return {}


def seeded(status: str, campaign_type: str = "sms", **spec: Any) -> Setup:
    """A campaign shaped as the page's sample (its fields, a fresh name, the seed's lists)."""

    def setup(ctx: Ctx) -> None:
        name = unique(f"Conformance {campaign_type}")
        fields = sample_campaign(ctx, campaign_type) | {"name": name, "contactLists": [SEED_LIST]}
        ctx.ids["campaign"] = ctx.sandbox.admin.seed_campaign(
            status, campaign_type=campaign_type, fields=fields, **spec
        )
        ctx.ids["name"] = name

    return setup


def listed(ctx: Ctx) -> None:
    """One campaign of each type the page lists, shaped as its samples."""
    for answer in ctx.page.answers:
        first = answer["data"]["results"][0]
        kind = "voice" if "dialingMode" in first else "sms"
        fields = {k: v for k, v in copy.deepcopy(first).items() if k not in OWN_FIELDS}
        ctx.sandbox.admin.seed_campaign(
            "Ready",
            campaign_type=kind,
            fields=fields | {"name": unique("Listed"), "contactLists": [SEED_LIST]},
        )


def scheduled(ctx: Ctx) -> None:
    seeded("Ready")(ctx)
    future = datetime.now(timezone.utc) + timedelta(days=30)
    ctx.hook.enable_campaign_schedule(ctx.ids["name"], start=future, end=future + timedelta(days=7))


def voice_run(ctx: Ctx) -> None:
    seeded("Ready", "voice")(ctx)
    ctx.hook.start_campaign(ctx.ids["campaign"], "voice")
    for _ in range(200):
        if ctx.hook.get_campaign_status(ctx.ids["campaign"]) == "Completed":
            return
        time.sleep(0.02)


def contact_list(with_contacts: bool = False, in_use: bool = False) -> Setup:
    def setup(ctx: Ctx) -> None:
        name = unique("Conformance list")
        created = ctx.hook.create_contact_list(name, "A list")
        ctx.ids |= {"list": str(created["_id"]), "list_name": name}
        if with_contacts:
            ctx.hook.upload_contacts_once(
                created["_id"], ["+14155550701", "+14155550702"], poll_interval=0.02, count_timeout=10
            )
        if in_use:
            ctx.sandbox.admin.seed_campaign(
                "Ready", fields={"name": unique("Uses it"), "contactLists": [name]}
            )

    return setup


# --- bodies the provider builds from a sample's own values -----------------------------------------


_MASKED_NUMBER = re.compile(r"^(\+?\d+)x+$")


def unmasked(value: Any) -> Any:
    """A sample value with Kore's ``xxxxx`` masks of numbers filled in (``+9198607xxxxx``)."""
    if isinstance(value, dict):
        return {key: unmasked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unmasked(item) for item in value]
    if isinstance(value, str) and (match := _MASKED_NUMBER.match(value)):
        return match.group(1) + "0" * (len(value) - len(match.group(1)))
    return value


def campaign_body(ctx: Ctx) -> dict[str, Any]:
    """The page's body as a user would hand it to the hook: masks filled in, a fresh name, the
    seed's lists, and the seed template's text where the sample's base64 is masked."""
    body = unmasked(ctx.sample_body)
    body["name"] = unique("Conformance create")
    if "contactLists" in body:
        body["contactLists"] = [SEED_LIST]
    message = body.get("message")
    if isinstance(message, dict) and "message" in message:
        message["message"] = encode_message(WELCOME_BODY)
    return dict(body)


def schedule_from_sample(ctx: Ctx) -> dict[str, Any]:
    """The provider's schedule body for the sample's recurrence, in the future."""
    sample = ctx.sample_body
    recurrence = sample["recurrenceObject"]
    details = recurrence.get("weeklyDetails") or recurrence.get("dailyDetails") or {}
    start = datetime.now(timezone.utc) + timedelta(days=30)
    body, problems = schedule_body(
        start=start,
        end=start + timedelta(days=7),
        recurrence=recurrence["recurType"].lower(),
        every=details.get("onceEveryNweeks") or details.get("onceEveryNdays") or 1,
        weekdays=details.get("whichDays"),
        zone=timezone.utc,
    )
    assert body is not None, problems
    return body.model_dump(exclude_none=True)


def list_body(ctx: Ctx) -> ApiRequest:
    sample = ctx.sample_body
    statuses = sample.get("filters", {}).get("status")
    return ctx.campaigns.list_campaigns(
        sample["type"], statuses, sample["page"], sample["limit"], newest_first=True
    )


def update_campaign(campaign_type: str) -> Build:
    def build(ctx: Ctx) -> ApiRequest:
        body = campaign_body(ctx)
        body["name"] = ctx.ids["name"]
        if body.get("dialingMode") == "Agentless":
            body.setdefault("enableMachineDetect", "no")
        return ctx.campaigns.update_campaign(ctx.ids["campaign"], campaign_type, body)

    return build


def contact_list_data(answer: ApiAnswer) -> dict[str, Any]:
    """The update answer ``{status, message, data:{contactListId, body}}``, as the hook reads it."""
    data = answer.body.get("data") if isinstance(answer.body, dict) else None
    if not isinstance(data, dict):
        raise answer.fail("answer lacks data")
    return data


TRIGGER_PATHS = (
    "Kore documents three path shapes for play and stop (API-CONTRACT, 'Where the pages contradict'); "
    "each call sends its own page's shape first and the others only when the connection says so."
)
START_SMS = (
    "The SMS start page writes {{IID}} where every other page writes the stream id, and no accountId: "
    "we send the stream id (the sandbox and every other page key the path by it) and accountId, "
    "as every other campaign call does."
)

CALLS: dict[str, Call] = {
    "get-sms-campaign.txt": Call(
        seeded("Ready"), lambda c: c.campaigns.get_campaign(c.ids["campaign"]), parse_campaign
    ),
    "delete-sms-campaign.txt": Call(
        seeded("Ready"), lambda c: c.campaigns.delete_campaign(c.ids["campaign"], "sms"), parse_deleted
    ),
    "delete-voice-campaign.txt": Call(
        seeded("Ready", "voice"),
        lambda c: c.campaigns.delete_campaign(c.ids["campaign"], "voice"),
        parse_deleted,
    ),
    "stop-sms-campaign.txt": Call(
        seeded("Active", complete_in_seconds=600),
        lambda c: c.campaigns.stop_campaign(c.ids["campaign"], "sms"),
        parse_trigger,
    ),
    "public/add-contacts-to-contact-list.md": Call(
        contact_list(),
        lambda c: c.lists.add_contacts(
            AddContactsBody.model_validate(
                {"contact_list_name": c.ids["list_name"], "data": [{"phoneNumber": "+9122333445566"}]}
            )
        ),
        parse_contacts_queued,
    ),
    "public/create-contact-list-v2.md": Call(
        nothing,
        lambda c: c.lists.create_contact_list(
            ContactListCreate.model_validate({**c.sample_body, "name": unique("Conformance new list")})
        ),
        parse_contact_list,
    ),
    "public/create-sms-campaign-advanced-format-v2.md": Call(
        nothing,
        lambda c: c.campaigns.create_sms_campaign(campaign_body(c)),
        parse_campaign,
        follows="The advanced-format page's path lacks the /campaign root every other create page has; "
        "we follow the other create pages.",
        path_differs=True,
    ),
    "public/create-sms-campaign-using-template-v2.md": Call(
        nothing, lambda c: c.campaigns.create_sms_campaign(campaign_body(c)), parse_campaign
    ),
    "public/create-sms-campaign-without-template-v2.md": Call(
        nothing, lambda c: c.campaigns.create_sms_campaign(campaign_body(c)), parse_campaign
    ),
    "public/create-voice-campaign-agentless-v2.md": Call(
        nothing, lambda c: c.campaigns.create_voice_campaign(campaign_body(c)), parse_campaign
    ),
    "public/create-voice-campaign-preview-v2.md": Call(
        nothing, lambda c: c.campaigns.create_voice_campaign(campaign_body(c)), parse_campaign
    ),
    "public/create-voice-campaign-progressive-v2.md": Call(
        nothing, lambda c: c.campaigns.create_voice_campaign(campaign_body(c)), parse_campaign
    ),
    "public/delete-contact-list-details-v2.md": Call(
        contact_list(), lambda c: c.lists.delete_contact_list(c.ids["list"]), parse_contact_list
    ),
    "public/delete-sms-campaign-v2.md": Call(
        seeded("Ready"), lambda c: c.campaigns.delete_campaign(c.ids["campaign"], "sms"), parse_deleted
    ),
    "public/delete-voice-campaign-v2.md": Call(
        seeded("Ready", "voice"),
        lambda c: c.campaigns.delete_campaign(c.ids["campaign"], "voice"),
        parse_deleted,
    ),
    "public/disable-voice-or-sms-campaign-schedule.md": Call(
        scheduled,
        lambda c: c.campaigns.set_schedule(c.ids["name"], None),
        parse_schedule,
        follows="The schedule pages send no accountId; we send it, as on every other campaign call.",
        extra_query=frozenset({"accountId"}),
    ),
    "public/enable-voice-or-sms-campaign-schedule-daily.md": Call(
        seeded("Ready"),
        lambda c: c.campaigns.set_schedule(c.ids["name"], schedule_from_sample(c)),
        parse_schedule,
        follows="The schedule pages send no accountId; we send it, as on every other campaign call.",
        extra_query=frozenset({"accountId"}),
    ),
    "public/enable-voice-or-sms-campaign-schedule-weekly.md": Call(
        seeded("Ready"),
        lambda c: c.campaigns.set_schedule(c.ids["name"], schedule_from_sample(c)),
        parse_schedule,
        follows="The weekly table labels its fields dailyDetails.*; we follow its sample (weeklyDetails). "
        "No accountId on the page; we send it, as on every other campaign call.",
        extra_query=frozenset({"accountId"}),
    ),
    "public/get-all-campaigns-v2.md": Call(listed, list_body, parse_page),
    "public/get-all-contact-details-voice-campaigns-v2.md": Call(
        voice_run,
        lambda c: c.campaigns.contact_results(c.ids["campaign"], 1, 100),
        parse_contact_results,
        follows="The per-contact results page sends no accountId; we send it, as on every other call.",
        extra_query=frozenset({"accountId"}),
    ),
    "public/get-all-contact-lists-v2.md": Call(
        contact_list(in_use=True),
        lambda c: c.lists.list_contact_lists(),
        parse_contact_lists,
        follows="The page's table says POST, its curl sample sends GET with no body: we follow the sample.",
        sandbox_omits={
            "$.data[].columns[]": "columns and files come from a file upload; sandbox lists are filled "
            "through the API, so theirs are empty",
            "$.data[].files[]": "as columns",
        },
    ),
    "public/get-all-contacts-of-a-contactlist-v2.md": Call(
        contact_list(with_contacts=True),
        lambda c: c.lists.list_contacts(c.ids["list"], 0, 50),
        parse_contacts_page,
        follows="Paging parameters are undocumented; the sample answer echoes skip and limit, which we "
        "send. The curl sample shows only the auth header; its table requires iid and accountId.",
        extra_query=frozenset({"skip", "limit"}),
    ),
    "public/get-campaign-status-v2.md": Call(
        seeded("Ready"), lambda c: c.campaigns.get_campaign_status(c.ids["campaign"]), parse_status
    ),
    "public/get-contact-list-details-v2.md": Call(
        contact_list(), lambda c: c.lists.get_contact_list(c.ids["list"]), parse_contact_list
    ),
    "public/get-sms-campaign-by-id-v2.md": Call(
        seeded("Ready"), lambda c: c.campaigns.get_campaign(c.ids["campaign"]), parse_campaign
    ),
    "public/get-voice-campaign-by-id-v2.md": Call(
        seeded("Ready", "voice"), lambda c: c.campaigns.get_campaign(c.ids["campaign"]), parse_campaign
    ),
    "public/start-sms-campaign-v2.md": Call(
        seeded("Ready"),
        lambda c: c.campaigns.start_campaign(c.ids["campaign"], "sms"),
        parse_trigger,
        follows=START_SMS,
        extra_query=frozenset({"accountId"}),
    ),
    "public/start-voice-campaign-v2.md": Call(
        seeded("Ready", "voice"),
        lambda c: c.campaigns.start_campaign(c.ids["campaign"], "voice"),
        parse_trigger,
        follows=TRIGGER_PATHS,
    ),
    "public/stop-sms-campaign-v2.md": Call(
        seeded("Active", complete_in_seconds=600),
        lambda c: c.campaigns.stop_campaign(c.ids["campaign"], "sms"),
        parse_trigger,
        follows=TRIGGER_PATHS,
    ),
    "public/stop-voice-campaign-v2.md": Call(
        seeded("Active", "voice", complete_in_seconds=600),
        lambda c: c.campaigns.stop_campaign(c.ids["campaign"], "voice"),
        parse_trigger,
        follows="The table says campaignType 'Use sms'; the path, curl and sample say voice: we send voice.",
    ),
    "public/update-contact-list-v2.md": Call(
        contact_list(),
        lambda c: c.lists.update_contact_list(
            c.ids["list"], ContactListUpdate(name=unique("Conformance renamed"), description="Renamed")
        ),
        contact_list_data,
        follows="The curl body misses a comma; it is read once the comma is put back.",
    ),
    "public/update-sms-campaign-v2.md": Call(seeded("Ready"), update_campaign("sms"), parse_campaign),
    "public/update-voice-campaign-v2.md": Call(
        seeded("Ready", "voice"),
        update_campaign("voice"),
        parse_campaign,
        follows="The path and curl say campaignType=sms, the table says voice: we send voice, the type "
        "of the campaign updated. The sample's Agentless body lacks enableMachineDetect, which the "
        "agentless create page requires: we follow the create page and send it.",
        extra_body=frozenset({"enableMachineDetect"}),
        sandbox_omits={
            "$.data.maxSkips": "a Preview-mode field Kore's sample answers for an Agentless campaign "
            "that did not send it; the sandbox keeps only the fields of the campaign's mode",
        },
    ),
}

#: Pages without an API sample to check, and why.
NOT_CALLS: dict[str, str] = {
    "create-sms-campaign.txt": "its copy lost its code blocks: no sample; the same call is "
    "public/create-sms-campaign-using-template-v2.md",
    "public/api-list.md": "an index of the API pages: no sample",
    "public/campaigns-overview.md": "the product overview: JavaScript snippets of the UI, no API sample",
    "public/rate-limit-ccai.md": "the rate limit in prose (60 a minute): no sample; the budget follows it",
    "public/jwt-api-introduction.md": "the JWT's payload, not a Campaign API call: tests/reliability/test_tokens.py",
    "public/jwt-sdk-security.md": "JWT headers and payloads, not Campaign API calls: tests/reliability/test_tokens.py",
}

#: Sample answers that are not valid JSON on the page, and how they are read.
UNREADABLE: dict[str, str] = {
    "public/create-sms-campaign-without-template-v2.md": "its answer sample misses a comma; it is read "
    "once the comma is put back (kore_pages.lenient_json)",
}
