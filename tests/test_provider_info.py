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


def test_providers_manager_registers_the_hook():
    from airflow.providers_manager import ProvidersManager

    try:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime
    except ImportError:  # Airflow 3.1: the core manager resolves the hooks
        ProvidersManagerTaskRuntime = ProvidersManager

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "airflow-campaign-provider" in ProvidersManager().providers
        hook = ProvidersManagerTaskRuntime().hooks["kore_campaign"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_campaign_provider.hooks.campaign.CampaignHook"
    assert hook.connection_id_attribute_name == "kore_conn_id"
    assert hook.hook_name == "Kore.ai Campaigns"


def test_providers_manager_draws_the_declarative_connection_form():
    from airflow import __version__ as airflow_version
    from airflow.providers_manager import ProvidersManager
    from packaging.version import Version

    if Version(airflow_version) < Version("3.2"):
        pytest.skip("Airflow 3.1 reads no conn-fields; there the extras go in the form's Extra JSON")
    manager = ProvidersManager()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation warning: the form is declarative
        widgets = manager.connection_form_widgets
        behaviour = manager.field_behaviours["kore_campaign"]

    for field in (
        "account_id",
        "stream_id",
        "iid",
        "jwt_lifetime_seconds",
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


def _listed_modules() -> list[str]:
    """Every module ``get_provider_info`` lists for hooks, operators, sensors and triggers."""
    info = get_provider_info()
    sections = ("hooks", "operators", "sensors", "triggers")
    return [module for section in sections for entry in info[section] for module in entry["python-modules"]]


#: Imported by DAG files too, though the provider info does not list them.
_UNLISTED_DAG_IMPORTS = [
    "airflow_campaign_provider.get_provider_info",
]


def test_every_module_with_a_public_operator_is_listed():
    """Airflow's provider docs and ``airflow providers`` learn the operators from this list."""
    import importlib
    import pkgutil

    import airflow_campaign_provider.operators as package
    from airflow_campaign_provider._compat import BaseOperator

    with_operators = set()
    for found in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(found.name)
        for name, value in vars(module).items():
            public = not name.startswith("_") and "Base" not in name
            defined_here = isinstance(value, type) and value.__module__ == module.__name__
            if public and defined_here and issubclass(value, BaseOperator):
                with_operators.add(module.__name__)
    (entry,) = get_provider_info()["operators"]
    assert with_operators == set(entry["python-modules"])


@pytest.mark.parametrize("module", [*_listed_modules(), *_UNLISTED_DAG_IMPORTS])
def test_importing_stays_cheap(module):
    """DAG files import these at every parse: requests and PyJWT load only when a call is made."""
    code = (
        "import sys, importlib; importlib.import_module(sys.argv[1]); "
        "print(sorted(m for m in ('requests', 'jwt', 'fastapi', 'uvicorn') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip().splitlines()[-1] == "[]"


#: What only a running task loads: the hook and its transport, the guarantees, the request and
#: answer code, the pydantic models, the trigger's poller and the budget.
_TASK_TIME_MODULES = (
    "airflow_campaign_provider.api",
    "airflow_campaign_provider.budget",
    "airflow_campaign_provider.hooks.campaign",
    "airflow_campaign_provider.hooks.transport",
    "airflow_campaign_provider.lifecycle.create",
    "airflow_campaign_provider.lifecycle.start",
    "airflow_campaign_provider.models.campaign",
    "airflow_campaign_provider.models.connection",
    "airflow_campaign_provider.models.settings",
    "airflow_campaign_provider.payload",
    "airflow_campaign_provider.triggers.campaign",
    "airflow_campaign_provider.triggers.poller",
)


def _operator_and_sensor_modules() -> list[object]:
    info = get_provider_info()
    modules = [
        module
        for section in ("operators", "sensors")
        for entry in info[section]
        for module in entry["python-modules"]
    ]
    return modules


@pytest.mark.parametrize("module", _operator_and_sensor_modules())
def test_operator_and_sensor_modules_load_nothing_a_task_needs_until_it_runs(module):
    """Airflow parses DAG files all the time: importing an operator or sensor module loads no hook,
    no lifecycle, no request code and compiles no model (bench/hook_overhead.py times it)."""
    code = (
        "import sys, importlib; importlib.import_module(sys.argv[1]); "
        "print(sorted(m for m in sys.argv[2:] if m in sys.modules))"
    )
    run = [sys.executable, "-c", code, module, *_TASK_TIME_MODULES]
    loaded = subprocess.run(run, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip().splitlines()[-1] == "[]"


def _conn_fields() -> dict[str, dict]:
    (connection_type,) = get_provider_info()["connection-types"]
    return connection_type["conn-fields"]


def _settings(extra: dict):
    from airflow_campaign_provider.models.connection import KoreConnectionSettings

    return KoreConnectionSettings.from_connection(
        host="https://platform.kore.ai", port=None, login="cs-client", password="secret", extra=extra
    )


def _form_defaults() -> dict:
    return {name: field["schema"].get("default") for name, field in _conn_fields().items()} | {
        "account_id": "5a4db0c5e1f2a3b4c5d6e7f8",
        "stream_id": "st-form",
    }


def test_no_form_field_is_named_like_a_secret():
    """Airflow's UI shows an extra named with a sensitive word as *** and saves "***" back."""
    from airflow.sdk._shared.secrets_masker import DEFAULT_SENSITIVE_FIELDS

    assert "token" in DEFAULT_SENSITIVE_FIELDS
    flagged = {
        name: sorted(word for word in DEFAULT_SENSITIVE_FIELDS if word in name.lower())
        for name in _conn_fields()
    }
    assert {name: words for name, words in flagged.items() if words} == {}


def test_the_form_left_at_its_defaults_parses_to_the_documented_defaults():
    settings = _settings(_form_defaults())
    assert (settings.token_ttl_seconds, settings.requests_per_minute) == (3600, 60)
    # No start/stop path: each type and action uses its own Kore page's path.
    assert (settings.enforce_jti, settings.trigger_path, settings.iid) == (False, "", "st-form")


@pytest.mark.parametrize("name", ["jwt_lifetime_seconds", "requests_per_minute"])
def test_number_bounds_of_the_form_are_the_parsers(name):
    from airflow_campaign_provider.exceptions import CampaignConnectionConfigError

    schema = _conn_fields()[name]["schema"]
    for accepted in (schema["minimum"], schema["maximum"]):
        _settings({**_form_defaults(), name: accepted})
    for refused in (schema["minimum"] - 1, schema["maximum"] + 1):
        with pytest.raises(CampaignConnectionConfigError, match=f"extra.{name}: must be between"):
            _settings({**_form_defaults(), name: refused})


@pytest.mark.parametrize("name", sorted(_conn_fields()))
def test_a_field_is_marked_required_when_the_parser_needs_it(name):
    """Airflow's UI marks a field required when its type excludes null; an empty box saves null."""
    schema = _conn_fields()[name]["schema"]
    if "null" not in schema["type"]:
        assert "default" in schema or _refused_when_empty(name), f"{name} is marked required but not needed"
    else:
        assert not _refused_when_empty(name), f"{name} may be left empty in the form, but then it is refused"


def _refused_when_empty(name: str) -> bool:
    from airflow_campaign_provider.exceptions import CampaignConnectionConfigError

    try:
        _settings({**_form_defaults(), name: None})
    except CampaignConnectionConfigError:
        return True
    return False
