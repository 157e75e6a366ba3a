"""Kore.ai-style error answers: `{"errors": [{"msg": ..., "code": ...}]}`.

Only the 401 code (4002) is documented; the other codes are the HTTP status itself, so a
client can read either the status line or the body and get the same answer.
"""

from __future__ import annotations

from typing import Any

CODE_AUTH = 4002


class KoreError(Exception):
    """An error answer: HTTP status, one message per problem, optional extra headers."""

    def __init__(
        self,
        status: int,
        messages: list[str] | str,
        *,
        code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.messages = [messages] if isinstance(messages, str) else messages
        self.code = code if code is not None else status
        self.headers = headers or {}
        super().__init__("; ".join(self.messages))

    def body(self) -> dict[str, Any]:
        """The JSON body Kore.ai sends for this error."""
        return error_body(self.messages, self.code)


def error_body(messages: list[str], code: int) -> dict[str, Any]:
    """`{"errors": [{"msg": m, "code": code}, ...]}`."""
    return {"errors": [{"msg": m, "code": code} for m in messages]}


def not_found(what: str = "Campaign") -> KoreError:
    """The 404 answer for an unknown id."""
    return KoreError(404, f"{what} not found")
