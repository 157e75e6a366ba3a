"""JSON helpers shared by the Kore and admin endpoints."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from airflow_campaign_provider.sandbox.errors import KoreError


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> Any:
    """Parse a request body strictly (no NaN/Infinity); empty means None; 400 when malformed."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        detail = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise KoreError(400, f"body: malformed JSON ({detail[:120]})") from None


def iso(ts: float) -> str:
    """ISO 8601 UTC with milliseconds, as Kore.ai writes timestamps: 2025-12-05T12:07:54.225Z."""
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def is_plain_json(value: Any) -> bool:
    """True when `value` serialises to strict JSON (no NaN/Infinity, only JSON types)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return False
    return True
