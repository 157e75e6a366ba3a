"""Everything one running sandbox holds, and the operations the admin endpoints perform on it."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.sandbox.auth import TokenVerifier
from airflow_campaign_provider.sandbox.db import Database
from airflow_campaign_provider.sandbox.errors import KoreError
from airflow_campaign_provider.sandbox.faults import FaultInjector, RateLimiter
from airflow_campaign_provider.sandbox.jsonutil import iso, parse_json
from airflow_campaign_provider.sandbox.store import Store

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_campaign_provider.sandbox.config import FaultConfig, SandboxConfig

_HIDDEN_HEADERS = frozenset({"auth", "authorization", "cookie"})


@dataclass(slots=True)
class RequestRecord:
    """One Kore request as received. The body stays raw until someone lists the log."""

    seq: int
    time: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    raw_body: bytes
    #: The sandbox route the request matched (``create_sms_campaign``, ``trigger_campaign``...) and
    #: its path parameters, so readers of the log need not parse Kore's paths again.
    operation: str | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    fault: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: `body` is the parsed JSON body (None if empty or not JSON, see `rawBody`)."""
        try:
            body, raw = parse_json(self.raw_body), None
        except KoreError:
            body, raw = None, self.raw_body[:2000].decode("utf-8", "replace")
        return {
            "seq": self.seq,
            "time": iso(self.time),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "operation": self.operation,
            "pathParams": self.path_params,
            "headers": self.headers,
            "status": self.status,
            "fault": self.fault,
            "body": body,
            "rawBody": raw,
        }


class SandboxState:
    """Config, account data, auth, rate limit, faults and the request log of one sandbox."""

    def __init__(self, config: SandboxConfig, now: float) -> None:
        self.initial = config
        self.config = config
        self.db = Database(config.db_path) if config.db_path else None
        self.store = Store(config, self.db)
        self.verifier = TokenVerifier(config)
        self.limiter = RateLimiter(config.rate_limit_per_window, config.rate_limit_window_seconds)
        self.injector = FaultInjector(config.faults)
        self.requests: deque[RequestRecord] = deque(maxlen=config.request_log_size)
        self._seq = itertools.count(1)
        self.set_faults(config.faults)
        self.store.start(config.seed, now)

    def close(self) -> None:
        """Release the database file, if any."""
        if self.db is not None:
            self.db.close()

    def log_request(
        self,
        scope: Mapping[str, Any],
        headers: dict[str, str],
        body: bytes,
        now: float,
        route: tuple[str, dict[str, str]] | None = None,
    ) -> RequestRecord:
        """Append a Kore request to the bounded log (its status is filled in when answered).

        ``route`` is the operation the request matched and its path parameters, if any.
        """
        record = RequestRecord(
            seq=next(self._seq),
            time=now,
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode("latin-1"),
            headers={k: v for k, v in headers.items() if k not in _HIDDEN_HEADERS},
            raw_body=body,
            operation=route[0] if route else None,
            path_params=route[1] if route else {},
        )
        self.requests.append(record)
        return record

    def apply_config(self, config: SandboxConfig) -> None:
        """Switch to new settings (auth, rate limit, timings) without losing state."""
        self.config = config
        self.store.config = config
        self.verifier.configure(config)
        self.limiter.configure(config.rate_limit_per_window, config.rate_limit_window_seconds)

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault settings (a copy, so forcing statuses never edits the caller's)."""
        faults = replace(faults, forced_statuses=dict(faults.forced_statuses))
        self.config = replace(self.config, faults=faults)
        self.injector.configure(faults)
        self.store.forced_statuses = faults.forced_statuses

    def reset(self, now: float) -> None:
        """Back to the state the server started with: config, faults, seed; logs emptied."""
        self.apply_config(self.initial)
        self.set_faults(self.initial.faults)
        self.requests.clear()
        self.limiter.clear()
        self.verifier.forget_jti()
        self.store.reset(self.initial.seed, now)
