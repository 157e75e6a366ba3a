"""The provider as Airflow sees it: entry point, schema, connection form, cheap imports."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from importlib import metadata
from pathlib import Path

import pytest

from airflow_campaign_provider.get_provider_info import get_provider_info


def test_entry_point_points_at_get_provider_info():
    entry_points = metadata.entry_points(group="apache_airflow_provider")
    ours = [ep for ep in entry_points if ep.value.startswith("airflow_campaign_provider")]
    assert len(ours) == 1
    assert ours[0].load()()["package-name"] == metadata.metadata("airflow-campaign-provider")["Name"]


def test_provider_info_matches_airflows_own_schema():
    import jsonschema
    from airflow import providers_manager

    schema_path = Path(providers_manager.__file__).with_name("provider_info.schema.json")
    jsonschema.validate(get_provider_info(), json.loads(schema_path.read_text()))


def test_providers_manager_registers_hook_and_declarative_connection_form():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    manager = ProvidersManager()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation warning: the form is declarative
        assert "airflow-campaign-provider" in manager.providers
        widgets = manager.connection_form_widgets
        behaviour = manager.field_behaviours["kore_campaign"]
        hook = ProvidersManagerTaskRuntime().hooks["kore_campaign"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_campaign_provider.hooks.campaign.CampaignHook"
    assert hook.connection_id_attribute_name == "kore_conn_id"
    assert hook.hook_name == "Kore.ai Campaigns"

    for field in (
        "account_id",
        "stream_id",
        "iid",
        "token_ttl_seconds",
        "enforce_jti",
        "requests_per_minute",
    ):
        assert f"extra__kore_campaign__{field}" in widgets
    assert behaviour["relabeling"] == {
        "host": "Environment URL",
        "login": "Client ID",
        "password": "Client Secret",
    }
    assert {"schema", "port", "extra"} <= set(behaviour["hidden_fields"])
    assert "https://platform.kore.ai" in behaviour["placeholders"].values()


def test_hook_has_no_deprecated_form_classmethods():
    from airflow_campaign_provider.hooks.campaign import CampaignHook

    assert "get_connection_form_widgets" not in CampaignHook.__dict__
    assert "get_ui_field_behaviour" not in CampaignHook.__dict__


@pytest.mark.parametrize(
    "module",
    [
        "airflow_campaign_provider.hooks.campaign",
        "airflow_campaign_provider.get_provider_info",
        "airflow_campaign_provider.operators.campaign",
        "airflow_campaign_provider.operators.voice",
        "airflow_campaign_provider.operators.sms_text",
        "airflow_campaign_provider.operators.update",
        "airflow_campaign_provider.operators.schedule",
        "airflow_campaign_provider.operators.results",
        "airflow_campaign_provider.sensors.campaign",
        "airflow_campaign_provider.triggers.campaign",
    ],
)
def test_importing_stays_cheap(module):
    """DAG files import these at every parse: requests and PyJWT load only when a call is made."""
    code = (
        "import sys, importlib; importlib.import_module(sys.argv[1]); "
        "print(sorted(m for m in ('requests', 'jwt', 'fastapi', 'uvicorn') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip().splitlines()[-1] == "[]"
