"""The asset aliases operators publish through are in the DAG the DAG processor reads, mapped
tasks' too, so Airflow creates them at parse time and never while tasks report their events.

Without this, a mapped task's alias first appears in its event; on PostgreSQL concurrent mapped
tasks then race to insert the alias row and fail their try on its unique key.
"""

from __future__ import annotations

import datetime
import importlib
import pkgutil
from typing import Any

import pytest
from airflow.dag_processing.collection import AssetModelOperation
from airflow.sdk import DAG, AssetAlias

import airflow_campaign_provider.operators as operators_package
from airflow_campaign_provider.assets import CAMPAIGNS_ALIAS, kore_campaign_asset
from airflow_campaign_provider.lineage.effects import alias_of
from airflow_campaign_provider.operators.base import CampaignBaseOperator
from airflow_campaign_provider.operators.campaign import CreateSmsCampaignOperator, StartCampaignOperator
from tests.airflow_names import serialized_dag

#: A partial left unexpanded warns when collected; these tests only read what it declares.
pytestmark = pytest.mark.filterwarnings("ignore:Task .* was never mapped:UserWarning")

STREAM = "st-5a4db0c5-0000-4000-8000-000000000001"


def _publishing_operators() -> list[type[CampaignBaseOperator]]:
    """Every public operator class of the provider that publishes through an alias."""
    for module in pkgutil.iter_modules(operators_package.__path__):
        importlib.import_module(f"{operators_package.__name__}.{module.name}")
    found: list[type[CampaignBaseOperator]] = []
    pending: list[type[Any]] = [CampaignBaseOperator]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        public = not cls.__name__.startswith("_") and "Base" not in cls.__name__
        if public and cls.__module__.startswith(operators_package.__name__) and alias_of(cls) is not None:
            found.append(cls)
    return sorted(set(found), key=lambda cls: cls.__name__)


PUBLISHING = _publishing_operators()


def test_every_operator_that_publishes_is_checked() -> None:
    names = {cls.__name__ for cls in PUBLISHING}
    assert {"UploadContactsOperator", "CreateSmsCampaignOperator", "StartCampaignOperator"} <= names
    assert len(names) >= 12, names


@pytest.mark.parametrize("operator_class", PUBLISHING, ids=lambda cls: cls.__name__)
def test_a_partial_carries_the_alias_among_its_outlets(operator_class: type[CampaignBaseOperator]) -> None:
    with DAG("aliases", start_date=datetime.datetime(2026, 1, 1), schedule=None):
        partial = operator_class.partial(task_id="mapped")
    assert partial.kwargs["outlets"] == [alias_of(operator_class)]


def test_declared_outlets_are_kept_and_the_alias_added_once() -> None:
    campaign = kore_campaign_asset("spring", stream_id=STREAM, host="bots.kore.ai")
    with DAG("aliases", start_date=datetime.datetime(2026, 1, 1), schedule=None):
        one = StartCampaignOperator.partial(task_id="one", outlets=campaign)
        both = StartCampaignOperator.partial(task_id="both", outlets=[campaign, CAMPAIGNS_ALIAS])
        plain = StartCampaignOperator(task_id="plain", campaign_id="cmp-1", outlets=[CAMPAIGNS_ALIAS])
    assert one.kwargs["outlets"] == [campaign, CAMPAIGNS_ALIAS]
    assert both.kwargs["outlets"] == [campaign, CAMPAIGNS_ALIAS]
    assert plain.outlets == [CAMPAIGNS_ALIAS]


def test_the_dag_processor_creates_a_mapped_tasks_alias_at_parse_time() -> None:
    with DAG("mapped_aliases", start_date=datetime.datetime(2026, 1, 1), schedule=None) as dag:
        created = CreateSmsCampaignOperator.partial(
            task_id="create",
            description="spring",
            contact_lists=["spring"],
            caller_id="+14155550100",
            calling_hours={"timezone": "UTC"},
            message="Hello",
        ).expand(name=["north", "south"])
        StartCampaignOperator.partial(task_id="start").expand(campaign_id=created.output)

    collected = AssetModelOperation.collect({dag.dag_id: serialized_dag(dag)})

    assert set(collected.asset_aliases) == {CAMPAIGNS_ALIAS.name}
    assert isinstance(CAMPAIGNS_ALIAS, AssetAlias)
