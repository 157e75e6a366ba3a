"""Kore endpoints beyond the SMS-from-template lifecycle: voice campaigns, start and stop in
each documented path shape, updates (PUT), schedules and per-contact results.

Bodies are validated with the provider's own models (``airflow_campaign_provider.models``), so the
sandbox refuses exactly what the client refuses, naming every field in one Kore-style 412.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from airflow_campaign_provider.models.checks import validate
from airflow_campaign_provider.models.schedule import ScheduleBody, schedule_window_problems
from airflow_campaign_provider.models.voice import ContactsPage, VoiceCampaignBody
from airflow_campaign_provider.sandbox import schedules
from airflow_campaign_provider.sandbox.errors import KoreError, not_found
from airflow_campaign_provider.sandbox.jsonutil import parse_json
from airflow_campaign_provider.sandbox.openapi_docs import (
    ACCOUNT_ID,
    CAMPAIGN_ID,
    CAMPAIGN_TYPE,
    EMPTY_OBJECT_SCHEMA,
    STREAM_ID,
    documented,
    inline_schema,
    json_body,
    param,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from airflow_campaign_provider.models.common import KnownData
    from airflow_campaign_provider.sandbox.state import SandboxState
    from airflow_campaign_provider.sandbox.store import Campaign, Store

BASE = "/campaign/api/v2/public/{streamId}/campaign"
CAMPAIGN_TYPES = ("sms", "voice")
#: The voice start and stop pages' path: no ``/campaign`` root, a single slash.
VOICE_TRIGGER = "/api/v2/public/{streamId}/campaign/trigger/{campaignId}"
#: Per path shape, the (campaignType, trigger) pairs its page documents; a strict sandbox
#: answers 404 to the others, as a Kore that routes only the documented shapes would.
DOCUMENTED_TRIGGERS = {
    "sms_start": {("sms", "play")},
    "double_slash": {("sms", "stop")},
    "voice": {("voice", "play"), ("voice", "stop")},
}
#: Fields of a voice body the stored campaign shows differently (or not at all).
_VOICE_INPUT_ONLY = ("experienceFlowName", "enableMachineDetect", "campaignType", "schedule")


TRIGGER = param("trigger", "query", "play or stop", "play", "stop")
PLAY_OR_STOP = documented(
    STREAM_ID,
    CAMPAIGN_ID,
    ACCOUNT_ID,
    CAMPAIGN_TYPE,
    TRIGGER,
    body=json_body(EMPTY_OBJECT_SCHEMA, required=False),
)


def _stable_id(prefix: str, name: str) -> str:
    return f"{prefix}-{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _refuse(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise KoreError(412, [f"{field}: {rule}" for field, rule in problems])


def checked(model: type[BaseModel], raw: bytes, known: KnownData | None = None) -> Any:
    """The body as a valid ``model`` (checked against the account's data when ``known`` is given),
    or a 412 naming every problem."""
    body, problems = validate(model, parse_json(raw), known)
    _refuse(problems)
    return body


def voice_fields(body: VoiceCampaignBody) -> dict[str, Any]:
    """The stored (GET) shape of a voice body, as Kore's create and get samples show it."""
    wire = body.to_wire()
    fields = {key: value for key, value in wire.items() if key not in _VOICE_INPUT_ONLY}
    fields["dncLists"] = {"id": _stable_id("cl", body.dncLists.name), "name": body.dncLists.name}
    fields["dialingStrategy"] = {**wire["dialingStrategy"], "useSystemMappings": False}
    if body.experienceFlowName is not None:
        fields["experienceFlow"] = _stable_id("cf", body.experienceFlowName)
    if body.enableMachineDetect is not None:
        fields["enableMachineDetect"] = body.enableMachineDetect != "no"
    return fields


def create_voice_answer(store: Store, raw: bytes, now: float) -> JSONResponse:
    """``POST {B}?campaignType=voice``: Preparing at first, and the id as ``id``, not ``_id``."""
    body = checked(VoiceCampaignBody, raw, store)
    view = store.view(store.create_voice(voice_fields(body), now))
    data = {key: value for key, value in view.items() if key != "_id"} | {"id": view["_id"]}
    return JSONResponse(
        {"status": "success", "message": f"Campaign {view['name']} creation in progress", "data": data}
    )


def contacts_answer(store: Store, campaign: Campaign, raw: bytes, now: float) -> JSONResponse:
    """``view=contacts``: one page of a voice campaign's per-contact results."""
    if campaign.kind != "voice":
        raise KoreError(412, "view: contacts applies to voice campaigns; SMS reports totalMessagesSent")
    query = checked(ContactsPage, raw or b"{}")
    rows = store.contact_results(campaign, now)
    first = (query.page - 1) * query.limit
    return JSONResponse(
        {
            "status": "success",
            "data": {
                "results": rows[first : first + query.limit],
                "page": query.page,
                "limit": query.limit,
                "totalPages": -(-len(rows) // query.limit),
                "totalResults": len(rows),
            },
        }
    )


def _choices(request: Request, **allowed: tuple[str, ...]) -> list[str]:
    """The query parameters named in ``allowed``; a 412 names every one that is not allowed."""
    values = [request.query_params.get(name) for name in allowed]
    _refuse(
        [
            (name, f"must be one of {', '.join(choices)} (got {value!r})")
            for (name, choices), value in zip(allowed.items(), values, strict=True)
            if value not in choices
        ]
    )
    return [str(value) for value in values]


async def trigger_answer(state: SandboxState, request: Request, shape: str) -> JSONResponse:
    """Play or stop a campaign through one of the documented path shapes."""
    campaign_type, trigger = _choices(request, campaignType=CAMPAIGN_TYPES, trigger=("play", "stop"))
    parse_json(await request.body())  # malformed JSON is refused; the documented body is {}
    if state.config.strict_trigger_paths and (campaign_type, trigger) not in DOCUMENTED_TRIGGERS[shape]:
        raise KoreError(404, f"Cannot POST {request.url.path}")
    store = state.store
    now = time.time()
    campaign = store.get(request.path_params["campaignId"], now, kind=campaign_type)
    if trigger == "play":
        run = store.play(campaign, now)
        answer: dict[str, Any] = {"status": "Active", "message": "Campaign Started"}
        if campaign_type == "voice":
            answer["totalCallsCompleted"] = 0
        answer |= {"updatedAt": campaign.doc["updatedAt"], "campaignInstanceId": run.instance_id}
        return JSONResponse(answer)
    store.stop(campaign, now)
    answer = {"status": "Stopped", "message": "Campaign Stopped", "updatedAt": campaign.doc["updatedAt"]}
    if campaign_type == "voice":
        answer["campaignInstanceId"] = campaign.doc.get("campaignInstanceId")
    else:
        answer["campaignExecutionType"] = "NORMAL"
    return JSONResponse(answer)


def campaign_router(state: SandboxState) -> APIRouter:
    """Voice, update, schedule and per-shape trigger endpoints, bound to one sandbox's state.

    Included after the base router, so ``getAllCampaignDetails`` keeps its own route; ``schedule``
    is declared before ``{campaignId}`` for the same reason.
    """
    router = APIRouter(tags=["Kore.ai campaigns"])
    store = state.store

    @router.post(
        BASE + "/schedule",
        summary="Enable (daily or weekly) or disable a campaign's schedule, keyed by its name",
        openapi_extra=documented(
            STREAM_ID,
            param("enableSchedule", "query", "true to enable, false to disable", "true", "false"),
            param("campaignName", "query", "The campaign's name"),
            body=json_body(inline_schema(ScheduleBody), required=False),
        ),
    )
    async def schedule_campaign(request: Request) -> JSONResponse:
        (flag,) = _choices(request, enableSchedule=("true", "false"))
        enable = flag == "true"
        name = request.query_params.get("campaignName") or ""
        now = time.time()
        campaign = store.find_by_name(name, now)
        if campaign is None:
            raise not_found(f"Campaign {name!r}")
        if not enable:
            parse_json(await request.body())
            store.disable_schedule(campaign, now)
            verb = "schedule has been disabled"
        else:
            body = checked(ScheduleBody, await request.body())
            _refuse(schedule_window_problems(body, schedules.local_time(campaign.doc, now)))
            store.enable_schedule(campaign, body.model_dump(exclude_none=True), now)
            verb = "scheduled"
        return JSONResponse(
            {
                "status": "success",
                "message": f"Campaign {campaign.doc['name']} {verb} successfully",
                "id": campaign.id,
            }
        )

    @router.post(
        BASE + "/{campaignId}",
        summary="Start an SMS campaign (trigger=play), as its page writes the path",
        openapi_extra=PLAY_OR_STOP,
    )
    async def start_sms_campaign(request: Request) -> JSONResponse:
        return await trigger_answer(state, request, "sms_start")

    @router.post(
        VOICE_TRIGGER,
        summary="Start or stop a voice campaign, as its pages write the path",
        openapi_extra=PLAY_OR_STOP,
    )
    async def trigger_voice_campaign(request: Request) -> JSONResponse:
        return await trigger_answer(state, request, "voice")

    @router.put(
        BASE + "/{campaignId}",
        summary="Update a campaign (the full object); not while Active",
        openapi_extra=documented(
            STREAM_ID, CAMPAIGN_ID, ACCOUNT_ID, CAMPAIGN_TYPE, body=json_body({"type": "object"})
        ),
    )
    async def update_campaign(request: Request) -> JSONResponse:
        (campaign_type,) = _choices(request, campaignType=CAMPAIGN_TYPES)
        now = time.time()
        campaign = store.get(request.path_params["campaignId"], now, kind=campaign_type)
        raw = await request.body()
        if campaign_type == "voice":
            body = checked(VoiceCampaignBody, raw, _OwnNameFree(store, str(campaign.doc["lname"])))
            fields = voice_fields(body)
        else:
            fields = sms_update_fields(store, campaign, parse_json(raw))
        store.update(campaign, fields, now)
        view = store.view(campaign)
        answer = {"status": "success", "message": f"Campaign {view['name']} details updated successfully"}
        if campaign_type == "voice":
            answer["id"] = campaign.id
        return JSONResponse(answer | {"data": view})

    return router


def sms_update_fields(store: Store, campaign: Campaign, body: Any) -> dict[str, Any]:
    """The stored fields of a valid SMS update body (validated as a create, its own name allowed)."""
    from airflow_campaign_provider.sandbox.store import sms_fields
    from airflow_campaign_provider.sandbox.validation import validate_create

    lookups = _OwnNameFree(store, str(campaign.doc["lname"]))
    problems = validate_create(body, "sms", lookups)
    if problems:
        raise KoreError(412, problems)
    template_name = (body.get("message") or {}).get("template_name")
    template = store.templates[template_name] if template_name is not None else None
    return {"name": body["name"], **sms_fields(body, template)}


class _OwnNameFree:
    """The store's data for validation, where the campaign being updated may keep its name."""

    def __init__(self, store: Store, own_lname: str) -> None:
        self._store = store
        self._own = own_lname
        self.contact_lists = store.contact_lists
        self.dnc_lists = store.dnc_lists
        self.templates = store.templates

    def name_taken(self, name: str) -> bool:
        return name.lower() != self._own and self._store.name_taken(name)
