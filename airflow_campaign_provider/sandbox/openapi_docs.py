"""The OpenAPI description of routes whose parameters and bodies are read by hand.

The sandbox reads parameters itself (one Kore-style 412 for every problem), so FastAPI cannot
document them; these helpers write the ``openapi_extra`` that does, shared by every route module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.models.common import CAMPAIGN_TYPES

if TYPE_CHECKING:
    from pydantic import BaseModel


def param(name: str, where: str, description: str, *enum: str, required: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": list(enum)} if enum else {"type": "string"}
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


STREAM_ID = param("streamId", "path", "Bot or stream id (st-…); must be the app's")
CAMPAIGN_ID = param("campaignId", "path", "Campaign id (cd-…)")
ACCOUNT_ID = param("accountId", "query", "Account id; must equal the accountId header")
CAMPAIGN_TYPE = param("campaignType", "query", "sms or voice", *CAMPAIGN_TYPES)


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with every ``$ref`` replaced by its definition, for ``openapi_extra``."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                return inline(definitions[ref.rsplit("/", 1)[1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(schema)


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` documenting a JSON request body read by hand."""
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


def documented(*parameters: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any]:
    """`openapi_extra` documenting parameters (and a body) that a handler reads by hand."""
    return {"parameters": list(parameters), **(body or {})}


EMPTY_OBJECT_SCHEMA: dict[str, Any] = {"type": "object", "example": {}}
