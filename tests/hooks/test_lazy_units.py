"""The hook binds the lifecycle units when first used: importing it loads none of them, their
pydantic models or the request budget, and each bound name is the unit it says."""

from __future__ import annotations

import subprocess
import sys

from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.lifecycle import create, start

LOADED_LATER = (
    "airflow_campaign_provider.lifecycle.",
    "airflow_campaign_provider.models.contact_list",
    "airflow_campaign_provider.budget",
    "airflow.sdk.bases.sensor",
)


def test_importing_the_hook_loads_no_unit_model_or_budget() -> None:
    script = (
        "import sys, airflow.sdk, airflow_campaign_provider.hooks.campaign\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = [m for m in ran.stdout.splitlines() if m.startswith(LOADED_LATER)]
    assert loaded == []


def test_each_bound_name_resolves_to_its_unit_once() -> None:
    # in a fresh interpreter: in this one other tests may have bound the units already
    script = """
import airflow.sdk
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.lifecycle import LazyUnit
hook = CampaignHook.__new__(CampaignHook)
for name, unit in list(vars(CampaignHook).items()):
    if isinstance(unit, LazyUnit):
        bound = getattr(hook, name)
        function = getattr(bound, "func", bound).__func__
        assert not isinstance(vars(CampaignHook)[name], LazyUnit), name
        print("unit", name, function.__module__.rsplit(".", 1)[1], function.__name__, *getattr(bound, "args", ()))
"""
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    printed = [line.split()[1:] for line in ran.stdout.splitlines() if line.startswith("unit ")]
    units = {words[0]: tuple(words[1:]) for words in printed}
    assert len(units) == 17
    assert units["start_campaign_once"] == ("start", "start_campaign_once")
    assert units["create_sms_campaign_once"] == ("create", "create_campaign_once")
    assert units["create_voice_campaign_once"] == ("create", "create_from_body_once", "voice")
    assert units["upload_contacts_once"] == ("contacts", "upload_contacts_once")
    for name, (_, function, *_) in units.items():
        assert name == function or name in {
            "create_sms_campaign_once",
            "create_voice_campaign_once",
            "create_sms_text_campaign_once",
        }


def test_a_unit_is_the_function_itself_and_a_typed_create_passes_its_type() -> None:
    hook = CampaignHook.__new__(CampaignHook)
    assert hook.start_campaign_once.__func__ is start.start_campaign_once  # type: ignore[attr-defined]
    voice = hook.create_voice_campaign_once
    assert voice.func.__func__ is create.create_from_body_once  # type: ignore[attr-defined]
    assert voice.args == ("voice",)  # type: ignore[attr-defined]
