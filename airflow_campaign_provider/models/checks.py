"""Turning a model's validation errors into ``(field, rule)`` problems, and back.

A problem's field is the wire path (``dialingStrategy.maxRingTime``, ``contactLists[0]``); the
client maps it to the operator argument, the sandbox answers it in Kore's error shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

ModelT = TypeVar("ModelT", bound=BaseModel)


def wire_path(location: Iterable[Any]) -> str:
    """``("contactLists", 0)`` → ``contactLists[0]``."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _rule(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a documented field"
    message = message[0].lower() + message[1:] if message else "is invalid"
    if error["type"] == "literal_error":
        return f"{message}; got {error.get('input')!r}"
    return message


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """Every problem of a failed validation, in order, each as ``(wire path, rule)``."""
    return [(wire_path(item["loc"]) or "body", _rule(item)) for item in error.errors()]


def validate(model: type[ModelT], data: Any) -> tuple[ModelT | None, list[tuple[str, str]]]:
    """``(model, [])`` for a valid body, ``(None, problems)`` otherwise."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, problems_of(error)


def field_errors(title: str, problems: Iterable[tuple[str, str]]) -> ValidationError:
    """A ValidationError placing each rule on its own field; raise it from a model validator."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError("rule", rule), loc=(field,), input=None)
            for field, rule in problems
        ],
    )
