"""The Kore.ai Campaign Management API v2 endpoints, with the documented paths and answers.

Auth, rate limit and faults are handled before these run (see `gateway`). Parameters and
bodies are read here rather than by FastAPI, so that every problem comes back in one Kore-style
412 answer instead of FastAPI's 422, and because FastAPI's per-parameter machinery is most of a
request's cost. Bodies are validated with the provider's own models (`models`), and the OpenAPI
document publishes the schemas generated from them.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from airflow_campaign_provider.models.campaign import CampaignListBody, SmsCampaignBody
from airflow_campaign_provider.models.common import CAMPAIGN_TYPES
from airflow_campaign_provider.sandbox.campaign_routes import (
    contacts_answer,
    create_voice_answer,
    trigger_answer,
)
from airflow_campaign_provider.sandbox.errors import KoreError
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
from airflow_campaign_provider.sandbox.validation import SORT_FIELDS, ListQuery, validate_create

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox.state import SandboxState

BASE = "/campaign/api/v2/public/{streamId}/campaign"
TRIGGERS = ("play", "stop")


CREATE_SCHEMA = inline_schema(SmsCampaignBody)
LIST_SCHEMA = inline_schema(CampaignListBody)
LIST_SCHEMA["properties"]["sortBy"] = {
    "oneOf": [
        {"type": "string", "enum": [p + f for f in SORT_FIELDS for p in ("", "-")]},
        {"type": "object", "additionalProperties": {"enum": [1, -1, "asc", "desc"]}},
    ]
}


def _check_choice(problems: list[str], name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        problems.append(f"{name}: must be one of {', '.join(allowed)} (got {value!r})")


def kore_router(state: SandboxState) -> APIRouter:
    """The Kore endpoints, bound to one sandbox's state."""
    router = APIRouter(tags=["Kore.ai campaigns"])
    store = state.store

    @router.post(
        BASE,
        summary="Create an SMS campaign from a template",
        openapi_extra=documented(
            STREAM_ID,
            ACCOUNT_ID,
            param("campaignType", "query", "sms", "sms", required=False),
            body=json_body(CREATE_SCHEMA),
        ),
    )
    async def create_sms_campaign(request: Request) -> JSONResponse:
        if request.query_params.get("campaignType") == "voice":
            return create_voice_answer(store, await request.body(), time.time())
        body = parse_json(await request.body())
        problems = validate_create(body, request.query_params.get("campaignType"), store)
        if problems:
            raise KoreError(412, problems)
        campaign = store.create_sms(body, time.time())
        return JSONResponse(store.view(campaign))

    @router.get(
        BASE + "/{campaignId}",
        summary="Get a campaign",
        openapi_extra=documented(STREAM_ID, CAMPAIGN_ID, ACCOUNT_ID),
    )
    async def get_campaign(request: Request) -> JSONResponse:
        view = store.view(store.get(request.path_params["campaignId"], time.time()))
        return JSONResponse(
            {"status": "success", "message": f"Campaign {view['name']} retrieved successfully", "data": view}
        )

    @router.post(
        BASE + "/{campaignId}/status",
        summary="Get a campaign's status only",
        openapi_extra=documented(
            STREAM_ID, CAMPAIGN_ID, ACCOUNT_ID, param("view", "query", "status", "status", required=False)
        ),
    )
    async def campaign_status(request: Request) -> JSONResponse:
        view = request.query_params.get("view")
        if view not in (None, "status", "contacts"):
            raise KoreError(412, f"view: must be status or contacts (got {view!r})")
        now = time.time()
        campaign = store.get(request.path_params["campaignId"], now)
        if view == "contacts":
            return contacts_answer(store, campaign, await request.body(), now)
        shown = store.view(campaign)
        return JSONResponse(
            {
                "status": "success",
                "data": {"id": shown["_id"], "status": shown["status"], "name": shown["name"]},
            }
        )

    @router.post(
        BASE + "//trigger/{campaignId}",
        summary="Start (trigger=play) or stop (trigger=stop) a campaign; the double slash is documented",
        openapi_extra=documented(
            STREAM_ID,
            CAMPAIGN_ID,
            ACCOUNT_ID,
            CAMPAIGN_TYPE,
            param("trigger", "query", "play or stop", *TRIGGERS),
            body=json_body(EMPTY_OBJECT_SCHEMA, required=False),
        ),
    )
    async def trigger_campaign(request: Request) -> JSONResponse:
        return await trigger_answer(state, request, "double_slash")

    @router.delete(
        BASE + "/{campaignId}",
        summary="Delete a campaign (sms or voice), in any status",
        openapi_extra=documented(STREAM_ID, CAMPAIGN_ID, ACCOUNT_ID, CAMPAIGN_TYPE),
    )
    async def delete_campaign(request: Request) -> JSONResponse:
        campaign_type = request.query_params.get("campaignType")
        problems: list[str] = []
        _check_choice(problems, "campaignType", campaign_type, CAMPAIGN_TYPES)
        if problems:
            raise KoreError(412, problems)
        view = store.delete(store.get(request.path_params["campaignId"], time.time(), kind=campaign_type))
        return JSONResponse(
            {"status": "success", "message": f"Campaign {view['name']} deleted successfully", "data": view}
        )

    @router.post(
        BASE + "/getAllCampaignDetails",
        summary="List campaigns, filtered and paged",
        openapi_extra=documented(STREAM_ID, ACCOUNT_ID, body=json_body(LIST_SCHEMA, required=False)),
    )
    async def list_campaigns(request: Request) -> JSONResponse:
        query = ListQuery(parse_json(await request.body()), state.config.max_page_size)
        results, total = store.list_views(query, time.time())
        return JSONResponse(
            {
                "status": "success",
                "data": {
                    "results": results,
                    "hasMore": query.offset + len(results) < total,
                    "totalPages": math.ceil(total / query.limit),
                    "totalResults": total,
                },
            }
        )

    return router
