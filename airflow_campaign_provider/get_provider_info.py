"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

The connection form is declared here (``conn-fields`` and ``ui-field-behaviour``), as Airflow
3.2+ expects, so no hook classmethod (deprecated) is needed and no hook is imported to draw it.
"""

from __future__ import annotations

from typing import Any

from airflow_campaign_provider import __version__

_INTEGRATION = "Kore.ai Campaigns"


def _field(label: str, kind: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": [kind, "null"], **schema}}


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
                "python-modules": ["airflow_campaign_provider.triggers.campaign"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "kore_campaign",
                "hook-class-name": "airflow_campaign_provider.hooks.campaign.CampaignHook",
                "hook-name": "Kore.ai Campaigns",
                "conn-fields": {
                    "account_id": _field("Account ID", "string", "Kore.ai account id (sent as accountId)."),
                    "stream_id": _field("Stream ID", "string", "Bot or stream id, st-…; part of every path."),
                    "iid": _field(
                        "Application ID (iid)", "string", "The iid header; defaults to the Stream ID."
                    ),
                    "token_ttl_seconds": _field(
                        "Token lifetime (s)", "integer", "JWT exp, 60 to 3600 seconds.", default=3600
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
                        "The account's API budget; Kore allows 60.",
                        default=60,
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
                        "account_id": "24 hex characters",
                        "stream_id": "st-…",
                        "iid": "defaults to the Stream ID",
                    },
                },
            }
        ],
    }
