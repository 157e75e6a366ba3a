"""What the sandbox checks in the bodies it receives, with the provider's own models.

Every problem is collected (never only the first), each as `"<field>: <rule>"`, so one 412
answer names them all. The rules themselves live in `airflow_campaign_provider.models`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from airflow_campaign_provider.models.campaign import CampaignListBody, sms_body_model
from airflow_campaign_provider.models.common import KNOWN_DATA, KnownData, problems_of, show
from airflow_campaign_provider.sandbox.errors import KoreError

SORT_FIELDS = {"createdAt": "createdAt", "updatedAt": "updatedAt", "name": "lname", "status": "status"}


def _listed(error: ValidationError) -> list[str]:
    return [f"{field}: {rule}" for field, rule in problems_of(error)]


def validate_create(body: Any, query_type: str | None, data: KnownData) -> list[str]:
    """All problems of a create-SMS-campaign request (empty when it is valid)."""
    problems: list[str] = []
    if query_type != "sms":
        problems.append(f'campaignType (query): must be "sms" (got {show(query_type)})')
    if not isinstance(body, dict):
        return [*problems, "body: must be a JSON object"]
    try:
        sms_body_model(body).model_validate(body, context={KNOWN_DATA: data})
    except ValidationError as error:
        problems += _listed(error)
    return problems


class ListQuery:
    """A validated list (getAllCampaignDetails) request; a 412 KoreError names every problem."""

    def __init__(self, body: Any, max_page_size: int) -> None:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise KoreError(412, "body: must be a JSON object")
        problems: list[str] = []
        try:
            query = CampaignListBody.model_validate(body)
        except ValidationError as error:
            problems += _listed(error)
            query = CampaignListBody()
        self.type = query.type
        self.limit = min(query.limit or 10, max_page_size)
        self.offset = query.skip if query.skip is not None else ((query.page or 1) - 1) * self.limit
        self.statuses = (
            frozenset(query.filters.status) if query.filters and query.filters.status is not None else None
        )
        self.created_from = query.startDate.timestamp() if query.startDate else None
        self.created_until = query.endDate.timestamp() if query.endDate else None
        self.sort_key, self.descending = _sort(problems, body.get("sortBy"))
        if problems:
            raise KoreError(412, problems)


def _sort(problems: list[str], sort_by: Any) -> tuple[str, bool]:
    """(campaign field, descending) from "createdAt", "-createdAt" or {"createdAt": -1}.

    Kore documents the object form (`{"createdAt": "desc"}`); the others are the sandbox's own.
    """
    if sort_by is None:
        return "createdAt", True
    if isinstance(sort_by, str) and sort_by:
        field, descending = sort_by.lstrip("-"), sort_by.startswith("-")
    elif isinstance(sort_by, dict) and len(sort_by) == 1:
        field, direction = next(iter(sort_by.items()))
        if direction not in (1, -1, "asc", "desc") or isinstance(direction, bool):
            problems.append(f'sortBy.{field}: must be 1, -1, "asc" or "desc"')
        descending = direction in (-1, "desc")
    else:
        problems.append('sortBy: must be a field name ("-createdAt" for descending) or {"createdAt": -1}')
        return "createdAt", True
    if field not in SORT_FIELDS:
        problems.append("sortBy: must sort by one of " + ", ".join(SORT_FIELDS))
        return "createdAt", True
    return SORT_FIELDS[field], descending
