"""`SandboxAdmin`: a small synchronous client for a sandbox's `/_sandbox` admin endpoints."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from airflow_campaign_provider.sandbox.config import (
    FaultConfig,
    SandboxConfig,
    config_from_dict,
    faults_from_dict,
)

if TYPE_CHECKING:
    from collections.abc import Callable


class SandboxAdminError(RuntimeError):
    """The admin endpoint refused a request; the message carries its error list."""


class SandboxAdmin:
    """Inspect and steer a running sandbox: request log, messages, faults, config, seeding, reset.

    `on_config` is called with the server's config after every call that may change it, so a
    `SandboxServer` can keep its `client_secret` (and the rest) in step with a rotation.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        on_config: Callable[[SandboxConfig], None] | None = None,
    ) -> None:
        self._http = httpx.Client(base_url=f"{base_url}/_sandbox", timeout=timeout)
        self._on_config = on_config

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, json: Any = None, params: dict[str, str] | None = None) -> Any:
        response = self._http.request(method, path, json=json, params=params)
        if response.is_error:
            raise SandboxAdminError(f"{method} /_sandbox{path}: {response.status_code} {response.text}")
        return response.json()

    def _config_changed(self, data: dict[str, Any]) -> SandboxConfig:
        config = config_from_dict(data)
        if self._on_config is not None:
            self._on_config(config)
        return config

    # ---------------------------------------------------------------- state
    def health(self) -> bool:
        """True when the server answers."""
        try:
            return bool(self._call("GET", "/health")["status"] == "ok")
        except httpx.HTTPError:
            return False

    def reset(self) -> SandboxConfig:
        """Back to the initial config, faults and seed; request log and messages emptied."""
        return self._config_changed(self._call("POST", "/reset"))

    def config(self) -> SandboxConfig:
        """The server's current settings."""
        return self._config_changed(self._call("GET", "/config"))

    def update_config(self, **changes: Any) -> SandboxConfig:
        """Change run-time settings, e.g. `rate_limit_per_window=None`, `client_secret=...`,
        `enforce_jti=True`, `preparing_seconds=0.1`, `send_interval_seconds=0.01`."""
        return self._config_changed(self._call("PATCH", "/config", json=changes))

    # ---------------------------------------------------------------- logs
    def requests(self) -> list[dict[str, Any]]:
        """Kore requests received, oldest first: method, path, query, headers (no auth), status,
        fault, body (parsed JSON) and rawBody (when the body was not JSON)."""
        return list(self._call("GET", "/requests")["requests"])

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "/requests")

    def messages(self, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """Messages sent so far (campaignId, phone, contactList, channel, sentAt), oldest first."""
        params = {"campaignId": campaign_id} if campaign_id is not None else None
        return list(self._call("GET", "/messages", params=params)["messages"])

    # ---------------------------------------------------------------- faults
    def faults(self) -> FaultConfig:
        """The current fault settings."""
        return faults_from_dict(self._call("GET", "/faults"))

    def set_faults(self, faults: FaultConfig | None = None, **fields: Any) -> FaultConfig:
        """Replace the fault settings, given as a FaultConfig or as its fields (others off)."""
        body = asdict(faults) if faults is not None else fields
        return faults_from_dict(self._call("PUT", "/faults", json=body))

    def clear_faults(self) -> FaultConfig:
        """Switch every fault off (forced statuses included)."""
        return faults_from_dict(self._call("DELETE", "/faults"))

    def force_status(self, campaign_id: str, status: str | None) -> None:
        """Make every read report `status` for this campaign; None reports the real one again."""
        path = f"/campaigns/{quote(campaign_id, safe='')}/forced-status"
        if status is None:
            self._call("DELETE", path)
        else:
            self._call("PUT", path, json={"status": status})

    # ---------------------------------------------------------------- data
    def campaigns(self) -> dict[str, Any]:
        """Every live campaign (id, status, shownStatus, counts), liveCount, deletedCount, byStatus."""
        return dict(self._call("GET", "/campaigns"))

    def seed_campaigns(self, specs: list[dict[str, Any]]) -> list[str]:
        """Add campaigns straight into the account (no rate limit) and return their ids.

        A spec: {"status": "Active", "campaign_type": "sms", "complete_in_seconds": 30,
        "ready_in_seconds": ... (Preparing), "fields": {"name": ..., "_id": ..., any Kore field}}.
        """
        return list(self._call("POST", "/campaigns", json={"campaigns": specs})["ids"])

    def seed_many(
        self, count: int, spec: dict[str, Any] | None = None, *, name_prefix: str | None = None
    ) -> list[str]:
        """Seed ``count`` campaigns from one spec in one call (named ``name_prefix`` and a number
        from 1 when given) and return their ids, in order."""
        body: dict[str, Any] = {"count": count, "campaign": spec or {}}
        if name_prefix is not None:
            body["name_prefix"] = name_prefix
        return list(self._call("POST", "/campaigns/bulk", json=body)["ids"])

    def seed_campaign(self, status: str = "Ready", **spec: Any) -> str:
        """Seed one campaign; `spec` takes the other keys of a `seed_campaigns` spec."""
        return self.seed_campaigns([{"status": status, **spec}])[0]

    def resources(self) -> dict[str, Any]:
        """Contact lists, DNC lists and templates."""
        return dict(self._call("GET", "/resources"))

    def put_contact_list(self, name: str, phones: list[str]) -> None:
        """Create or replace a contact list (E.164 numbers)."""
        self._call("PUT", _resource_path("contact-lists", name), json={"phones": phones})

    def put_dnc_list(self, name: str, phones: list[str]) -> None:
        """Create or replace a DNC list (E.164 numbers)."""
        self._call("PUT", _resource_path("dnc-lists", name), json={"phones": phones})

    def put_template(self, name: str, body: str, template_id: str = "") -> None:
        """Create or replace a message template."""
        self._call("PUT", _resource_path("templates", name), json={"body": body, "id": template_id})

    def delete_resource(self, kind: str, name: str) -> None:
        """Remove a resource; kind is contact-lists, dnc-lists or templates."""
        self._call("DELETE", _resource_path(kind, name))


def _resource_path(kind: str, name: str) -> str:
    return f"/resources/{kind}/{quote(name, safe='')}"
