"""Settings of a sandbox server: identity, auth, rate limit, lifecycle timings, faults, storage.

Plain dataclasses with stdlib imports only, so that building a config (for instance in a pytest
plugin) costs nothing until a server really starts.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from airflow_campaign_provider.sandbox.seed import Seed, default_seed

DEFAULT_CLIENT_ID = "cs-sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret-0123456789abcdef"
DEFAULT_ACCOUNT_ID = "5a4db0c5e1f2a3b4c5d6e7f8"
DEFAULT_STREAM_ID = "st-5a4db0c5-0000-4000-8000-000000000001"
MAX_FAULT_SECONDS = 60.0
MAX_PADDING_BYTES = 1 << 30
LIST_PAGE_FAULTS = frozenset({"", "string", "endless", "unsorted"})


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _is_rate(value: float) -> bool:
    return 0.0 <= value <= 1.0


@dataclass
class FaultConfig:
    """Faults injected into Kore requests (admin requests are never faulted).

    Rates are probabilities from 0 to 1, drawn from a generator seeded with `random_seed`, so a
    test sees the same sequence every run. `burst_429` makes the next N Kore requests answer 429.
    `forced_statuses` maps campaign ids to a status (any string, known or not) that every read
    reports instead of the real one, while the real lifecycle goes on underneath.

    Hostile answers, to test a client against servers that misbehave: `error_message` is the
    text of injected errors (e.g. a 500 saying "Internal error in rate limiter"); `retry_after`
    the raw `Retry-After` of the 429 burst ("1e9", "inf", "-5", an HTTP date, "0"); the answer
    of every Kore request is dripped one byte per `drip_seconds_per_byte`, padded with spaces to
    `padding_bytes` (2xx only), gzip-encoded (`gzip_answers`; with padding, a gzip bomb), or
    replaced by JSON nested `deep_json_depth` deep (2xx only); `list_pages` makes the list answer
    `hasMore` as a string ("string") or always true without `totalPages`, serving page 1 again
    for every page ("endless"), or ignore `sortBy`, `startDate` and `endDate`, listing oldest
    first ("unsorted").
    """

    error_rate: float = 0.0
    error_status: int = 503
    error_message: str = "Service temporarily unavailable, please retry"
    retry_after: str | None = None
    drip_seconds_per_byte: float = 0.0
    padding_bytes: int = 0
    gzip_answers: bool = False
    deep_json_depth: int = 0
    list_pages: str = ""
    latency_seconds: float = 0.0
    spike_rate: float = 0.0
    spike_seconds: float = 0.0
    drop_rate: float = 0.0
    burst_429: int = 0
    forced_statuses: dict[str, str] = field(default_factory=dict)
    random_seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "spike_rate", "drop_rate"):
            _check(_is_rate(getattr(self, name)), f"{name} must be between 0 and 1")
        for name in ("latency_seconds", "spike_seconds"):
            value = getattr(self, name)
            _check(0.0 <= value <= MAX_FAULT_SECONDS, f"{name} must be between 0 and {MAX_FAULT_SECONDS:g}")
        _check(500 <= self.error_status <= 599, "error_status must be a 5xx status")
        _check(0.0 <= self.drip_seconds_per_byte <= 1.0, "drip_seconds_per_byte must be between 0 and 1")
        _check(
            0 <= self.padding_bytes <= MAX_PADDING_BYTES, f"padding_bytes must be 0 to {MAX_PADDING_BYTES}"
        )
        _check(0 <= self.deep_json_depth <= 1_000_000, "deep_json_depth must be 0 to 1000000")
        _check(self.list_pages in LIST_PAGE_FAULTS, f"list_pages must be one of {sorted(LIST_PAGE_FAULTS)}")
        _check(self.burst_429 >= 0, "burst_429 must not be negative")


@dataclass
class SandboxConfig:
    """Everything a sandbox server needs; every field has a default.

    Timings are in seconds. `rate_limit_per_window=None` switches the rate limit off.
    `iid=None` means the iid header must equal `stream_id`. `db_path=None` keeps state in memory;
    a file path keeps it in SQLite so a restart loses nothing. `send_interval_seconds` is the
    delay between two messages of an active campaign (it applies to runs started after a change);
    `retry_minute_seconds` is how long one minute of a voice campaign's `defaultRetryPeriod` lasts.
    `strict_trigger_paths` answers 404 to a play or stop sent in a path shape whose Kore page does
    not document that campaign type and action (SMS start `{B}/{id}`, SMS stop `{B}//trigger/{id}`,
    voice `/api/v2/public/{stream}/campaign/trigger/{id}`); by default every shape takes both.
    `contact_import_seconds` is how long added contacts take to join their list (Kore imports them
    asynchronously); `max_contacts_per_add` caps one addContacts call (Kore documents no cap, so
    a client must adapt when a batch is refused as too large: 413). `refuse_taken_names` answers
    412 to a create (or a rename) whose name a live campaign has; Kore does not document that it
    does, so a client must stay exactly-once when it is off. `enforce_calling_hours` sends a
    campaign's messages and calls only inside its calling hours, in its time zone, as Kore does;
    off, they go out at once whatever the hours say.
    """

    host: str = "127.0.0.1"
    port: int = 0
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    account_id: str = DEFAULT_ACCOUNT_ID
    stream_id: str = DEFAULT_STREAM_ID
    iid: str | None = None
    enforce_jti: bool = False
    jwt_leeway_seconds: float = 5.0
    rate_limit_per_window: int | None = 60
    rate_limit_window_seconds: float = 60.0
    retry_after_header: bool = True
    preparing_seconds: float = 2.0
    send_interval_seconds: float = 1.0
    retry_minute_seconds: float = 0.01
    strict_trigger_paths: bool = False
    refuse_taken_names: bool = True
    enforce_calling_hours: bool = False
    max_page_size: int = 100
    contact_import_seconds: float = 1.0
    max_contacts_per_add: int = 1000
    request_log_size: int = 10_000
    max_body_bytes: int = 1_048_576
    tick_seconds: float = 0.1
    db_path: str | None = None
    seed: Seed = field(default_factory=default_seed)
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        for name in ("client_id", "client_secret", "account_id", "stream_id"):
            _check(bool(getattr(self, name)), f"{name} must not be empty")
        _check(0 <= self.port <= 65535, "port must be between 0 and 65535")
        _check(
            self.rate_limit_per_window is None or self.rate_limit_per_window >= 1,
            "rate_limit_per_window must be >= 1 or None",
        )
        for name in ("rate_limit_window_seconds", "tick_seconds"):
            _check(math.isfinite(getattr(self, name)) and getattr(self, name) > 0, f"{name} must be > 0")
        for name in (
            "preparing_seconds",
            "send_interval_seconds",
            "retry_minute_seconds",
            "jwt_leeway_seconds",
            "contact_import_seconds",
        ):
            value = getattr(self, name)
            _check(math.isfinite(value) and value >= 0, f"{name} must be >= 0")
        for name in ("max_page_size", "request_log_size", "max_body_bytes", "max_contacts_per_add"):
            _check(getattr(self, name) >= 1, f"{name} must be >= 1")

    @property
    def effective_iid(self) -> str:
        """The iid header value the server expects."""
        return self.iid or self.stream_id

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, read back by `config_from_dict`."""
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> SandboxConfig:
        """A copy with the run-time settings in `changes` applied (ValueError on anything else)."""
        unknown = sorted(set(changes) - RUNTIME_SETTINGS)
        _check(not unknown, f"not changeable at run time: {', '.join(unknown)}")
        return config_from_dict({**self.to_dict(), **changes})


RUNTIME_SETTINGS = frozenset(
    {
        "client_id",
        "client_secret",
        "enforce_jti",
        "jwt_leeway_seconds",
        "rate_limit_per_window",
        "rate_limit_window_seconds",
        "retry_after_header",
        "preparing_seconds",
        "send_interval_seconds",
        "retry_minute_seconds",
        "strict_trigger_paths",
        "enforce_calling_hours",
        "refuse_taken_names",
        "max_page_size",
        "contact_import_seconds",
        "max_contacts_per_add",
    }
)
CONFIG_FIELDS = frozenset(f.name for f in fields(SandboxConfig))


def config_from_dict(data: Any) -> SandboxConfig:
    """Build a SandboxConfig from JSON data with strict type checks (ValueError names the problem)."""
    return _validate(SandboxConfig, data)


def faults_from_dict(data: Any) -> FaultConfig:
    """Build a FaultConfig from JSON data with strict type checks."""
    return _validate(FaultConfig, data)


def load_seed(path: str | Path) -> Seed:
    """Read a seed JSON file (the shape of `Seed.to_dict()`), checking every type."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read seed file {path}: {exc}") from None
    return _validate(Seed, data)


_ADAPTERS: dict[type[Any], Any] = {}


def _adapter(cls: type[Any]) -> Any:
    """A strict pydantic validator for a config dataclass (built once: building one is slow)."""
    if cls not in _ADAPTERS:
        from pydantic import ConfigDict, TypeAdapter, with_config

        _ADAPTERS[cls] = TypeAdapter(with_config(ConfigDict(extra="forbid"))(cls))
    return _ADAPTERS[cls]


def _validate(cls: type[Any], data: Any) -> Any:
    from pydantic import ValidationError

    try:
        return _adapter(cls).validate_json(json.dumps(data), strict=True)
    except (TypeError, ValueError) as exc:
        if not isinstance(exc, ValidationError):
            raise ValueError(f"not JSON data: {exc}") from None
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
        )
        raise ValueError(problems) from None


def config_to_json(config: SandboxConfig) -> str:
    """One-line JSON for handing a config to a child process."""
    return json.dumps(config.to_dict(), separators=(",", ":"))


__all__ = [
    "CONFIG_FIELDS",
    "RUNTIME_SETTINGS",
    "FaultConfig",
    "SandboxConfig",
    "config_from_dict",
    "config_to_json",
    "faults_from_dict",
    "load_seed",
]
