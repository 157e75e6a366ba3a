"""Admin endpoints under `/_sandbox`: inspect and steer a running sandbox.

Outside the Kore paths: no JWT, no rate limit, no faults, not in the request log. Bodies and
answers use the field names of `SandboxConfig`/`FaultConfig` (snake_case).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import TypeAdapter
from starlette.responses import JSONResponse

from airflow_campaign_provider.models.common import E164Phone, is_e164
from airflow_campaign_provider.sandbox.config import (
    RUNTIME_SETTINGS,
    FaultConfig,
    SandboxConfig,
    faults_from_dict,
)
from airflow_campaign_provider.sandbox.errors import KoreError, not_found
from airflow_campaign_provider.sandbox.jsonutil import parse_json
from airflow_campaign_provider.sandbox.openapi_docs import json_body
from airflow_campaign_provider.sandbox.seed import Template
from airflow_campaign_provider.sandbox.store import ResourceKind

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox.state import SandboxState

ADMIN_PREFIX = "/_sandbox"
MAX_STATUS_LENGTH = 64
#: The most campaigns one bulk seed call adds (a teardown of 10,000 is the largest case tested).
MAX_BULK_SEED = 20_000

_PHONES_SCHEMA = {
    "type": "object",
    "required": ["phones"],
    "properties": {"phones": TypeAdapter(list[E164Phone]).json_schema()},
}
_TEMPLATE_SCHEMA = {
    "type": "object",
    "required": ["body"],
    "properties": {"body": {"type": "string"}, "id": {"type": "string"}},
}
_SEED_SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "example": "Active"},
        "campaign_type": {"type": "string", "enum": ["sms", "voice"]},
        "complete_in_seconds": {"type": "number", "minimum": 0},
        "ready_in_seconds": {"type": "number", "minimum": 0},
        "fields": {
            "type": "object",
            "description": "Kore campaign fields to set (name, _id, ...)",
        },
    },
}
_SEED_SCHEMA = {
    "type": "object",
    "required": ["campaigns"],
    "properties": {"campaigns": {"type": "array", "items": _SEED_SPEC_SCHEMA}},
}


_BULK_SEED_SCHEMA = {
    "type": "object",
    "required": ["count"],
    "properties": {
        "count": {"type": "integer", "minimum": 1, "maximum": MAX_BULK_SEED},
        "campaign": {**_SEED_SPEC_SCHEMA, "description": "one spec for all"},
        "name_prefix": {"type": "string", "description": "names: the prefix and a number from 1"},
    },
}


def _bulk_specs(body: dict[str, Any]) -> list[dict[str, Any]]:
    """``count`` copies of the ``campaign`` spec, named ``name_prefix`` and a number if given."""
    count, spec, prefix = body.get("count"), body.get("campaign", {}), body.get("name_prefix")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_BULK_SEED:
        raise KoreError(400, f"count: must be a whole number from 1 to {MAX_BULK_SEED}")
    if not isinstance(spec, dict) or not isinstance(spec.get("fields", {}), dict):
        raise KoreError(400, "campaign: must be a campaign spec object, as in POST /_sandbox/campaigns")
    if prefix is not None and not isinstance(prefix, str):
        raise KoreError(400, "name_prefix: must be a string")
    width = len(str(count))
    return [
        {**spec, "fields": {**spec.get("fields", {}), "name": f"{prefix}{n:0{width}d}"}}
        if prefix is not None
        else dict(spec)
        for n in range(1, count + 1)
    ]


def _object_body(raw: bytes) -> dict[str, Any]:
    body = parse_json(raw)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise KoreError(400, "body: must be a JSON object")
    return body


def _config_schema() -> dict[str, Any]:
    properties = TypeAdapter(SandboxConfig).json_schema()["properties"]
    settable = {name: properties[name] for name in sorted(RUNTIME_SETTINGS)}
    return {"type": "object", "properties": settable, "additionalProperties": False}


def _resource_value(kind: ResourceKind, body: dict[str, Any]) -> list[str] | Template:
    if kind is ResourceKind.TEMPLATES:
        text, tid = body.get("body"), body.get("id", "")
        if not isinstance(text, str) or not isinstance(tid, str):
            raise KoreError(400, 'body: must be {"body": <template text>, "id": <optional id>}')
        return Template(body=text, id=tid)
    phones = body.get("phones")
    if not isinstance(phones, list) or not all(isinstance(p, str) and is_e164(p) for p in phones):
        raise KoreError(400, 'phones: must be an array of E.164 numbers like "+14155550100"')
    return list(phones)


def admin_router(state: SandboxState) -> APIRouter:
    """The admin endpoints, bound to one sandbox's state."""
    router = APIRouter(prefix=ADMIN_PREFIX, tags=["sandbox admin"])
    store = state.store

    def config_json() -> JSONResponse:
        return JSONResponse(state.config.to_dict())

    @router.get("/health", summary="Liveness")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @router.post("/reset", summary="Back to the initial config, faults and seed; logs emptied")
    async def reset() -> JSONResponse:
        state.reset(time.time())
        return config_json()

    @router.get("/requests", summary="Kore requests received, oldest first (never the auth header)")
    async def list_requests() -> JSONResponse:
        return JSONResponse({"requests": [r.to_dict() for r in state.requests]})

    @router.delete("/requests", summary="Empty the request log")
    async def clear_requests() -> JSONResponse:
        state.requests.clear()
        return JSONResponse({"requests": []})

    @router.get("/messages", summary="Messages sent so far, oldest first")
    async def list_messages(
        campaignId: Annotated[str | None, Query(description="only this campaign's")] = None,
    ) -> JSONResponse:
        messages = [m.to_dict() for m in store.messages_of(campaignId, time.time())]
        return JSONResponse({"messages": messages, "count": len(messages)})

    @router.get("/faults", summary="Current fault settings")
    async def get_faults() -> JSONResponse:
        return JSONResponse(state.config.to_dict()["faults"])

    @router.put(
        "/faults",
        summary="Replace the fault settings (fields left out are off)",
        openapi_extra=json_body(TypeAdapter(FaultConfig).json_schema()),
    )
    async def put_faults(request: Request) -> JSONResponse:
        try:
            faults = faults_from_dict(_object_body(await request.body()))
        except ValueError as exc:
            raise KoreError(400, str(exc)) from None
        state.set_faults(faults)
        return await get_faults()

    @router.delete("/faults", summary="Switch every fault off")
    async def clear_faults() -> JSONResponse:
        state.set_faults(FaultConfig())
        return await get_faults()

    @router.put(
        "/campaigns/{campaignId}/forced-status",
        summary="Make every read report this status for the campaign (any string)",
        openapi_extra=json_body(
            {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}
        ),
    )
    async def force_status(request: Request, campaignId: Annotated[str, Path()]) -> JSONResponse:
        status = _object_body(await request.body()).get("status")
        if not isinstance(status, str) or not 0 < len(status) <= MAX_STATUS_LENGTH:
            raise KoreError(400, f"status: must be a string of 1 to {MAX_STATUS_LENGTH} characters")
        if campaignId not in store.campaigns:
            raise not_found()
        store.forced_statuses[campaignId] = status
        return await get_faults()

    @router.delete("/campaigns/{campaignId}/forced-status", summary="Report the real status again")
    async def unforce_status(campaignId: Annotated[str, Path()]) -> JSONResponse:
        store.forced_statuses.pop(campaignId, None)
        return await get_faults()

    @router.get("/config", summary="Current settings")
    async def get_config() -> JSONResponse:
        return config_json()

    @router.patch("/config", summary="Change run-time settings", openapi_extra=json_body(_config_schema()))
    async def patch_config(request: Request) -> JSONResponse:
        try:
            config = state.config.updated(_object_body(await request.body()))
        except ValueError as exc:
            raise KoreError(400, str(exc)) from None
        state.apply_config(config)
        return config_json()

    @router.get("/campaigns", summary="Every live campaign, counts by status, and how many were deleted")
    async def campaigns_summary() -> JSONResponse:
        return JSONResponse(store.summary(time.time()))

    @router.post(
        "/campaigns",
        summary="Seed campaigns in any status (no rate limit, no validation of Kore rules)",
        openapi_extra=json_body(_SEED_SCHEMA),
    )
    async def seed_campaigns(request: Request) -> JSONResponse:
        ids = store.seed_campaigns(_object_body(await request.body()).get("campaigns"), time.time())
        return JSONResponse({"ids": ids})

    @router.post(
        "/campaigns/bulk",
        summary="Seed count campaigns from one spec in one call (no rate limit)",
        openapi_extra=json_body(_BULK_SEED_SCHEMA),
    )
    async def seed_bulk(request: Request) -> JSONResponse:
        specs = _bulk_specs(_object_body(await request.body()))
        return JSONResponse({"ids": store.seed_campaigns(specs, time.time())})

    @router.get("/resources", summary="Contact lists, DNC lists and templates")
    async def list_resources() -> JSONResponse:
        return JSONResponse(
            {
                "contact_lists": dict(store.contact_lists),
                "dnc_lists": store.dnc_lists,
                "templates": {name: {"body": t.body, "id": t.id} for name, t in store.templates.items()},
            }
        )

    @router.put(
        "/resources/{kind}/{name}",
        summary='Create or replace a contact list or DNC list ({"phones": [...]}) or a template ({"body": ...})',
        openapi_extra=json_body({"oneOf": [_PHONES_SCHEMA, _TEMPLATE_SCHEMA]}),
    )
    async def put_resource(
        request: Request, kind: ResourceKind, name: Annotated[str, Path()]
    ) -> JSONResponse:
        store.put_resource(kind, name, _resource_value(kind, _object_body(await request.body())))
        return await list_resources()

    @router.delete("/resources/{kind}/{name}", summary="Remove a contact list, DNC list or template")
    async def delete_resource(kind: ResourceKind, name: Annotated[str, Path()]) -> JSONResponse:
        store.delete_resource(kind, name)
        return await list_resources()

    return router
