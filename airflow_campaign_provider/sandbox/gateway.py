"""The front door for Kore requests: log, faults, rate limit, auth, then the app.

A plain ASGI wrapper (not a Starlette BaseHTTPMiddleware) around the FastAPI app, so the hot
path stays cheap, and outermost, so a dropped-connection fault can reach the server's
transport. Admin and documentation paths go straight through.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.routing import Match

from airflow_campaign_provider.sandbox.errors import KoreError
from airflow_campaign_provider.sandbox.faults import (
    LIST_PATH_SUFFIX,
    Fault,
    hostile_answer,
    hostile_list_request,
    retry_after_header,
)

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import Message, Receive, Scope, Send

    from airflow_campaign_provider.sandbox.config import FaultConfig
    from airflow_campaign_provider.sandbox.state import RequestRecord, SandboxState

KORE_PREFIX = "/campaign/api/v2/public/"
#: The one documented v1 call, addContacts, names the app's iid in its path instead of the stream.
KORE_V1_PREFIX = "/api/1.1/public/"
#: The voice start and stop pages' paths lack the ``/campaign`` root.
KORE_VOICE_TRIGGER_PREFIX = "/api/v2/public/"
#: Every path the gateway treats as a Kore call.
KORE_PREFIXES = (KORE_PREFIX, KORE_V1_PREFIX, KORE_VOICE_TRIGGER_PREFIX)
RATE_LIMIT_MESSAGE = "You've exceeded the per-minute rate limit"


class _Dropped(Exception):
    """The connection was closed on purpose; nothing may be sent."""


def error_response(exc: KoreError) -> JSONResponse:
    """The JSON answer for a KoreError."""
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)


def rate_limited(retry_after: float, with_header: bool) -> KoreError:
    """The 429 answer, with Retry-After in whole seconds when enabled."""
    headers = {"Retry-After": retry_after_header(retry_after)} if with_header else None
    return KoreError(429, RATE_LIMIT_MESSAGE, headers=headers)


class KoreGateway:
    """ASGI app: Kore requests pass faults, rate limit and auth before reaching `app`."""

    def __init__(self, app: Starlette, state: SandboxState) -> None:
        self.app = app
        self.state = state

    def route_of(self, scope: Scope) -> tuple[str, dict[str, str]] | None:
        """The name and path parameters of the route a request matches, None when none does.

        Matched before faults and the rate limit, so a refused request is still named.
        """
        for route in self.app.router.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "name", "")), dict(child.get("path_params", {}))
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(KORE_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = self.state
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        error: KoreError | None = None
        try:
            body = await _read_body(receive, state.config.max_body_bytes)
        except KoreError as exc:
            body, error = b"", exc
        record = state.log_request(scope, headers, body, time.time(), self.route_of(scope))

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        try:
            error = error or await self._admit(scope, headers, record, receive)
        except _Dropped:
            return
        faults = state.config.faults
        answer = (
            _HostileAnswer(faults, scope["path"], send_logged) if state.injector.rewrites_answers else None
        )
        if answer is not None and faults.list_pages and scope["path"].endswith(LIST_PATH_SUFFIX):
            body = hostile_list_request(faults.list_pages, body)
        respond = send_logged if answer is None else answer.send
        if error is not None:
            await error_response(error)(scope, receive, respond)
        else:
            await self.app(scope, _replay(body, receive), respond)

    async def _admit(
        self, scope: Scope, headers: dict[str, str], record: RequestRecord, receive: Receive
    ) -> KoreError | None:
        """The error that refuses this request, or None to let it through."""
        state = self.state
        cfg = state.config
        draw = state.injector.draw()
        if draw.delay:
            await asyncio.sleep(draw.delay)
        if draw.fault is not None:
            record.fault = draw.fault.value
            if draw.fault is Fault.DROP:
                await _drop_connection(receive)
                raise _Dropped
            if draw.fault is Fault.BURST_429:
                if cfg.faults.retry_after is not None:
                    return KoreError(429, RATE_LIMIT_MESSAGE, headers={"Retry-After": cfg.faults.retry_after})
                return rate_limited(1.0, cfg.retry_after_header)
            return KoreError(cfg.faults.error_status, cfg.faults.error_message)
        now = time.time()
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        account_key = headers.get("accountid") or query.get("accountId") or ""
        wait = state.limiter.admit(account_key, now)
        if wait is not None:
            return rate_limited(wait, cfg.retry_after_header)
        path = scope["path"]
        v1 = path.startswith(KORE_V1_PREFIX)
        prefix = next(p for p in KORE_PREFIXES if path.startswith(p))
        path_app = path[len(prefix) :].partition("/")[0]
        try:
            state.verifier.check(headers, query.get("accountId"), path_app, now, path_is_iid=v1)
        except KoreError as exc:
            return exc
        return None


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body (413 past `limit` bytes)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise KoreError(413, f"body: larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class _HostileAnswer:
    """Holds the app's answer back, then sends it the way the hostile server of ``faults`` does."""

    def __init__(self, faults: FaultConfig, path: str, send: Send) -> None:
        self._faults = faults
        self._path = path
        self._send = send
        self._start: Message | None = None
        self._chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        self._chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        start = self._start
        body, changed = hostile_answer(self._faults, self._path, start["status"], b"".join(self._chunks))
        kept = [(k, v) for k, v in start.get("headers", []) if k.decode("latin-1").lower() not in changed]
        headers = kept + [(k.encode("latin-1"), v.encode("latin-1")) for k, v in changed.items()]
        await self._send({**start, "headers": headers})
        pause = self._faults.drip_seconds_per_byte
        if not pause:
            await self._send({"type": "http.response.body", "body": body, "more_body": False})
            return
        for index in range(len(body)):
            await self._send(
                {"type": "http.response.body", "body": body[index : index + 1], "more_body": True}
            )
            await asyncio.sleep(pause)
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable that hands the already-read body to the app, then defers to `receive`."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _drop_connection(receive: Receive) -> None:
    """Close the client's connection without an answer.

    ASGI has no way to say "reset this connection", so this reaches uvicorn's transport through
    the request cycle that owns `receive`, aborts it, and lets uvicorn notice the disconnect (so it
    does not answer 500 either). Only uvicorn is supported; elsewhere it raises.
    """
    cycle: Any = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(cycle, "disconnected"):
        raise RuntimeError("the drop fault needs uvicorn")
    transport.abort()
    for _ in range(10):
        if cycle.disconnected:
            return
        await asyncio.sleep(0)
    cycle.disconnected = True
