"""A minimal Kore.ai API client for the sandbox's own tests.

Deliberately independent of the provider's hook: these tests pin the sandbox to the
documentation, so they build the documented requests by hand.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import httpx
import jwt

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_campaign_provider.sandbox import SandboxServer


class KoreClient:
    """Builds the documented paths, query parameters and headers, with a fresh JWT each call."""

    def __init__(self, sandbox: SandboxServer, *, timeout: float = 10.0) -> None:
        self.sandbox = sandbox
        self.http = httpx.Client(base_url=sandbox.url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    @property
    def base(self) -> str:
        return f"/campaign/api/v2/public/{self.sandbox.stream_id}/campaign"

    def token(self, secret: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "appId": self.sandbox.client_id,
            "sub": "sandbox-tests",
            "iat": now,
            "exp": now + 600,  # Kore: a token with a jti expires at most one hour after issue
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(
            {k: v for k, v in payload.items() if v is not None},
            secret or self.sandbox.client_secret,
            algorithm="HS256",
        )

    def headers(self, **overrides: str | None) -> dict[str, str]:
        headers = {
            "auth": self.token(),
            "iid": self.sandbox.iid,
            "accountId": self.sandbox.account_id,
            "Content-Type": "application/json",
        }
        headers.update(overrides)  # type: ignore[arg-type]
        return {k: v for k, v in headers.items() if v is not None}

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> httpx.Response:
        query = {"accountId": self.sandbox.account_id, **(params or {})}
        return self.http.request(
            method,
            self.base + path,
            params={k: v for k, v in query.items() if v is not None},
            json=json,
            content=content,
            headers=self.headers(**(headers or {})),
        )

    # -- the documented operations -------------------------------------------------
    def create(self, body: Any, campaign_type: str = "sms") -> httpx.Response:
        return self.call("POST", "", params={"campaignType": campaign_type}, json=body)

    def get(self, campaign_id: str) -> httpx.Response:
        return self.call("GET", f"/{campaign_id}")

    def status(self, campaign_id: str) -> httpx.Response:
        return self.call("POST", f"/{campaign_id}/status", params={"view": "status"}, json={})

    def trigger(self, campaign_id: str, action: str, campaign_type: str = "sms") -> httpx.Response:
        params = {"campaignType": campaign_type, "trigger": action}
        return self.call("POST", f"//trigger/{campaign_id}", params=params, json={})

    def delete(self, campaign_id: str, campaign_type: str = "sms") -> httpx.Response:
        return self.call("DELETE", f"/{campaign_id}", params={"campaignType": campaign_type})

    def list(self, body: Any = None) -> httpx.Response:
        return self.call("POST", "/getAllCampaignDetails", json=body if body is not None else {})

    # -- conveniences -----------------------------------------------------------------
    def create_ok(self, body: dict[str, Any]) -> dict[str, Any]:
        """The created campaign (the answer's ``data``, as Kore's samples wrap it)."""
        response = self.create(body)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert set(answer) == {"status", "message", "data"}, answer
        return dict(answer["data"])

    def status_of(self, campaign_id: str) -> str:
        response = self.status(campaign_id)
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["status"])

    def wait_for(self, campaign_id: str, statuses: Iterable[str], timeout: float = 10.0) -> str:
        wanted = set(statuses)
        deadline = time.monotonic() + timeout
        while True:
            status = self.status_of(campaign_id)
            if status in wanted or time.monotonic() > deadline:
                assert status in wanted, f"{campaign_id} is {status}, not {wanted} after {timeout}s"
                return status
            time.sleep(0.01)


def error_messages(response: httpx.Response) -> list[str]:
    """The `msg` of every entry of a Kore error body."""
    return [e["msg"] for e in response.json()["errors"]]


def parse_iso(text: str) -> float:
    """Seconds since the epoch of a Kore timestamp like 2025-12-05T12:07:54.225Z."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
