"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

The connection form is declared here (``conn-fields`` and ``ui-field-behaviour``), as Airflow
3.2+ expects, so no hook classmethod (deprecated) is needed and no hook is imported to draw it.
"""

from __future__ import annotations

from typing import Any

from airflow_campaign_provider import __version__

_INTEGRATION = "Kore.ai Campaigns"
# The connection parser's defaults and bounds, written out: ProvidersManager reads this module for
# every Airflow command, so it imports nothing of the package (a test holds the two in step).
_MAX_JWT_LIFETIME = 3600
_REQUESTS_PER_MINUTE = 60
_MAX_REQUESTS_PER_MINUTE = 100_000


def _field(label: str, kind: str, description: str, required: bool = False, **schema: Any) -> dict[str, Any]:
    """One extra of the form; Airflow's UI marks a field required when its type excludes null.

    Only the standard fields draw ``placeholders``, so each hint lives in the description.
    """
    kinds = kind if required else [kind, "null"]
    return {"label": label, "description": description, "schema": {"type": kinds, **schema}}


def _option(
    description: str, kind: str, default: str | None, example: str | None, **more: Any
) -> dict[str, Any]:
    return {
        "description": description,
        "version_added": __version__,
        "type": kind,
        "example": example,
        "default": default,
        **more,
    }


#: ``[kore_campaign]``: the account's request budget (see ``airflow_campaign_provider.budget``);
#: a connection overrides the first three with ``extra.budget_store_url``,
#: ``extra.budget_window_seconds`` and ``extra.budget_store_down``.
CONFIG = {
    "kore_campaign": {
        "description": "The Kore.ai request budget of each account (the connection's requests_per_minute), "
        "shared by every worker and triggerer through a budget store.",
        "options": {
            "budget_store_url": _option(
                "Redis URL of the budget store every process shares. Empty: each process keeps its own "
                "budget. Most Celery deployments can use their broker's Redis (another db number).",
                "string",
                "",
                "redis://127.0.0.1:6379/3",
                sensitive=True,
            ),
            "budget_window_seconds": _option(
                "The window of the budget in whole seconds (Kore.ai: 60).", "integer", "60", None
            ),
            "budget_store_down": _option(
                "When the store does not answer: fallback (each process keeps its own budget, with a "
                "warning, and asks the store again a window later) or fail (the call fails; Airflow's "
                "retries take over).",
                "string",
                "fallback",
                "fail",
            ),
            "budget_store_timeout_seconds": _option(
                "Connect and read timeout of each call to the store.", "float", "1.0", None
            ),
            "budget_slack_seconds": _option(
                "Whole seconds added to the window, for sends slowed on their way and clocks a little "
                "apart between hosts.",
                "integer",
                "1",
                None,
            ),
            "budget_max_pause_seconds": _option(
                "The longest pause a 429 answer imposes on every process (its Retry-After, capped).",
                "float",
                "120",
                None,
            ),
        },
    }
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-campaign-provider",
        "name": _INTEGRATION,
        "description": "Create, start, wait for, stop and delete Kore.ai SMS and voice campaigns "
        "(Campaign Management API v2) from Airflow, with a local sandbox server for tests.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://docs.kore.ai/",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": _INTEGRATION, "python-modules": ["airflow_campaign_provider.hooks.campaign"]}
        ],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "airflow_campaign_provider.operators.campaign",
                    "airflow_campaign_provider.operators.voice",
                    "airflow_campaign_provider.operators.sms_text",
                    "airflow_campaign_provider.operators.update",
                    "airflow_campaign_provider.operators.schedule",
                    "airflow_campaign_provider.operators.results",
                    "airflow_campaign_provider.operators.contact_list",
                    "airflow_campaign_provider.operators.teardown",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": ["airflow_campaign_provider.sensors.campaign"],
            }
        ],
        "triggers": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "airflow_campaign_provider.triggers.campaign",
                    "airflow_campaign_provider.triggers.events",
                ],
            }
        ],
        "config": CONFIG,
        "connection-types": [
            {
                "connection-type": "kore_campaign",
                "hook-class-name": "airflow_campaign_provider.hooks.campaign.CampaignHook",
                "hook-name": "Kore.ai Campaigns",
                "conn-fields": {
                    "account_id": _field(
                        "Account ID",
                        "string",
                        "Your Kore.ai account id, 24 hex characters (sent as accountId).",
                        required=True,
                    ),
                    "stream_id": _field(
                        "Stream ID",
                        "string",
                        "The bot or stream id, st-…; part of every path.",
                        required=True,
                    ),
                    "iid": _field(
                        "Application ID (iid)",
                        "string",
                        "The iid header; leave empty to use the Stream ID.",
                    ),
                    "jwt_lifetime_seconds": _field(
                        "JWT lifetime (s)",
                        "integer",
                        f"The token's exp, 60 to {_MAX_JWT_LIFETIME} seconds.",
                        required=True,
                        default=_MAX_JWT_LIFETIME,
                        minimum=60,
                        maximum=_MAX_JWT_LIFETIME,
                    ),
                    "enforce_jti": _field(
                        "Enforce JTI",
                        "boolean",
                        "On when the Kore app enforces jti: a fresh token for every request.",
                        default=False,
                    ),
                    "requests_per_minute": _field(
                        "Requests per minute",
                        "integer",
                        f"The account's API budget; Kore allows {_REQUESTS_PER_MINUTE}.",
                        required=True,
                        default=_REQUESTS_PER_MINUTE,
                        minimum=1,
                        maximum=_MAX_REQUESTS_PER_MINUTE,
                    ),
                    "budget_store_url": _field(
                        "Budget store URL",
                        "string",
                        "Redis URL of the shared request budget; overrides [kore_campaign] "
                        "budget_store_url; off: this connection keeps a per-process budget.",
                    ),
                    "budget_window_seconds": _field(
                        "Budget window (s)", "integer", "Overrides [kore_campaign] budget_window_seconds."
                    ),
                    "budget_store_down": _field(
                        "When the budget store is down",
                        "string",
                        "fallback or fail; overrides [kore_campaign] budget_store_down.",
                        enum=["fallback", "fail", None],
                    ),
                    "trigger_path": _field(
                        "Start/stop path (all types)",
                        "string",
                        "Older setting: one path after .../campaign for every play and stop, with "
                        "{campaign_id}. Empty: each Kore page's own path.",
                    ),
                    **{
                        name: _field(
                            label,
                            "string",
                            "Path from the host root, with {campaign_id} (and {stream_id}). Empty: "
                            "the page's own path, and the other documented one once on a 404.",
                        )
                        for name, label in (
                            ("sms_start_path", "SMS start path"),
                            ("sms_stop_path", "SMS stop path"),
                            ("voice_start_path", "Voice start path"),
                            ("voice_stop_path", "Voice stop path"),
                        )
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "extra"],
                    "relabeling": {
                        "host": "Environment URL",
                        "login": "Client ID",
                        "password": "Client Secret",
                    },
                    "placeholders": {
                        "host": "https://platform.kore.ai",
                        "login": "cs-…",
                        "password": "client secret of the JWT app",
                    },
                },
            }
        ],
    }
