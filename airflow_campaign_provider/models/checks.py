"""Validating a body against a model in one call, and model-level rules placed on their fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from airflow_campaign_provider.models.common import KNOWN_DATA, problems_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from airflow_campaign_provider.models.common import KnownData

ModelT = TypeVar("ModelT", bound=BaseModel)


def validate(
    model: type[ModelT], data: Any, known: KnownData | None = None
) -> tuple[ModelT | None, list[tuple[str, str]]]:
    """``(model, [])`` for a valid body, ``(None, problems)`` otherwise; ``known`` is the receiving
    side's account data, for the checks only it can make."""
    try:
        return model.model_validate(data, context={KNOWN_DATA: known} if known is not None else None), []
    except ValidationError as error:
        return None, problems_of(error)


def renamed(field: str, names: Mapping[str, str]) -> str:
    """A problem's field under the name the caller knows it by: with ``{"contactLists":
    "contact_lists"}``, ``contactLists[0]`` becomes ``contact_lists[0]`` (sub-paths follow)."""
    for wire, name in names.items():
        if field == wire or field.startswith((wire + ".", wire + "[")):
            return name + field[len(wire) :]
    return field


def field_errors(title: str, problems: Iterable[tuple[str, str]]) -> ValidationError:
    """A ValidationError placing each rule on its own field; raise it from a model validator
    so a rule about several fields names each of them."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError("rule", rule), loc=(field,), input=None)
            for field, rule in problems
        ],
    )
