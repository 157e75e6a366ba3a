"""The ``kore://`` asset scheme: one spelling per list or campaign, registered with Airflow; the
events an operator publishes for what it changed; and OpenLineage left alone when not installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk import Asset
from airflow.sdk.execution_time.context import OutletEventAccessors

from airflow_campaign_provider.assets import (
    CAMPAIGNS_ALIAS,
    CONTACT_LISTS_ALIAS,
    RESULTS_ALIAS,
    KoreResource,
    convert_kore_asset_to_openlineage,
    kore_campaign_asset,
    kore_contact_list_asset,
    kore_host,
)
from airflow_campaign_provider.get_provider_info import get_provider_info
from airflow_campaign_provider.operators.campaign import StartCampaignOperator
from airflow_campaign_provider.operators.contact_list import CreateContactListOperator, UploadContactsOperator
from airflow_campaign_provider.operators.results import ExportCampaignResultsOperator
from tests.operators.conftest import valid_args

STREAM = "st-5a4db0c5-0000-4000-8000-000000000001"


def test_names_are_matched_as_kore_matches_them_and_the_host_as_a_url_would_be() -> None:
    typed = kore_contact_list_asset(" Season Gold ", stream_id=STREAM, host="https://Platform.Kore.ai:443")
    assert typed.uri == f"kore://platform.kore.ai/{STREAM}/contact-list/season%20gold"
    assert typed == kore_contact_list_asset("season gold", stream_id=STREAM)
    assert typed.name == typed.uri
    assert kore_host("http://127.0.0.1:8123") == "127.0.0.1:8123"


def test_a_hand_written_uri_is_normalised_by_the_registered_handler() -> None:
    """Airflow applies the provider's normaliser to every kore:// Asset, however it is written."""
    by_hand = Asset(uri=f"kore://PLATFORM.kore.ai/{STREAM}/campaign/Spring%20Sale/")
    assert by_hand.uri == kore_campaign_asset("Spring Sale", stream_id=STREAM).uri


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("kore://campaigns/finished", "is not a Kore asset URI"),
        (f"kore://platform.kore.ai/{STREAM}/template/offer", "kind must be one of contact-list, campaign"),
        (f"kore://platform.kore.ai/{STREAM}/campaign/%20", "name must be the campaign's name"),
    ],
)
def test_a_malformed_uri_is_refused_saying_how_to_write_it(uri: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Asset(uri=uri)


def test_the_helpers_refuse_a_missing_stream() -> None:
    with pytest.raises(ValueError, match="stream_id must be the bot's stream id"):
        kore_contact_list_asset("VIP", stream_id="")


def test_the_scheme_is_registered_with_its_normaliser_and_openlineage_converter() -> None:
    (entry,) = get_provider_info()["asset-uris"]
    assert entry["schemes"] == ["kore"]
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    manager = ProvidersManagerTaskRuntime()
    assert manager.asset_uri_handlers["kore"].__name__ == "normalize_kore_uri"
    assert manager.asset_to_openlineage_converters["kore"] is convert_kore_asset_to_openlineage


def test_the_openlineage_dataset_is_named_like_the_asset() -> None:
    pytest.importorskip("airflow.providers.openlineage")
    dataset = convert_kore_asset_to_openlineage(kore_campaign_asset("Spring Sale", stream_id=STREAM))
    assert (dataset.namespace, dataset.name) == ("kore://platform.kore.ai", f"{STREAM}/campaign/spring sale")


class _Hook:
    """What publishing reads of a hook: the connection's host and stream."""

    settings = SimpleNamespace(base_url="https://platform.kore.ai", stream_id=STREAM)


def _publish(operator: Any, result: Any) -> OutletEventAccessors:
    operator.__dict__["hook"] = _Hook()
    events = OutletEventAccessors()
    operator._record_outcome({"outlet_events": events}, result)
    return events


def _alias_events(events: OutletEventAccessors, alias: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(event.dest_asset_key.uri, event.extra) for event in events[alias].asset_alias_events]


def test_an_upload_publishes_its_list_with_the_counts_through_the_alias() -> None:
    upload = UploadContactsOperator(task_id="upload", contact_list_id="cl-1", contacts=["+14155550100"])
    report = {"contact_list_id": "cl-1", "contact_list_name": "VIP", "sent": 1, "total_in_list": 4}

    events = _publish(upload, report)

    assert CONTACT_LISTS_ALIAS in upload.outlets
    ((uri, extra),) = _alias_events(events, CONTACT_LISTS_ALIAS)
    assert uri == kore_contact_list_asset("VIP", stream_id=STREAM).uri
    assert extra == {**report, "operation": "upload"}


def test_creating_an_empty_list_publishes_nothing() -> None:
    create = CreateContactListOperator(task_id="create", name="VIP", description="Customers.")
    assert _alias_events(_publish(create, "cl-1"), CONTACT_LISTS_ALIAS) == []


def test_an_operator_acting_by_id_publishes_on_the_campaign_the_dag_declared() -> None:
    spring = kore_campaign_asset("Spring Sale", stream_id=STREAM)
    start = StartCampaignOperator(task_id="start", campaign_id="cd-1", outlets=[spring])

    events = _publish(start, "Completed")

    assert events[spring].extra == {
        "campaign_id": "cd-1",
        "campaign_type": "sms",
        "status": "Completed",
        "operation": "start",
    }
    assert _alias_events(events, CAMPAIGNS_ALIAS) == []  # its name is unknown: no event by alias


def test_a_declared_outlet_naming_another_campaign_gets_no_extra(caplog: pytest.LogCaptureFixture) -> None:
    from airflow_campaign_provider.operators.update import UpdateCampaignOperator

    other = kore_campaign_asset("Another", stream_id=STREAM)
    update = UpdateCampaignOperator(
        task_id="update", campaign_id="cd-1", changes={"description": "x"}, outlets=[other]
    )

    events = _publish(update, {"campaign_id": "cd-1", "name": "Spring Sale", "status": "Ready"})

    assert events[other].extra == {}
    assert "names a campaign this task did not change" in caplog.text
    ((uri, extra),) = _alias_events(events, CAMPAIGNS_ALIAS)
    assert uri == kore_campaign_asset("Spring Sale", stream_id=STREAM).uri
    assert extra["status"] == "Ready"


def test_an_export_publishes_its_results_file(tmp_path: Any) -> None:
    path = f"file://{tmp_path}/results.csv"
    export = ExportCampaignResultsOperator(task_id="export", campaign_id="cd-1", path=path)

    events = _publish(export, {"campaign_id": "cd-1", "path": path, "per_contact": False})

    ((uri, extra),) = _alias_events(events, RESULTS_ALIAS)
    assert uri == path
    assert extra["per_contact"] is False


def test_a_failure_to_publish_never_fails_the_task(caplog: pytest.LogCaptureFixture) -> None:
    upload = UploadContactsOperator(task_id="upload", contact_list_id="cl-1", contacts=["+14155550100"])
    upload.__dict__["hook"] = SimpleNamespace(settings=SimpleNamespace(base_url="", stream_id=STREAM))

    upload._record_outcome({"outlet_events": OutletEventAccessors()}, {"contact_list_name": "VIP"})

    assert "Could not publish the asset events of upload" in caplog.text


def test_without_the_openlineage_provider_operators_import_build_and_publish_alike() -> None:
    """A meta-path blocker stands for an environment without the provider installed."""
    script = textwrap.dedent(
        """
        import sys
        from types import SimpleNamespace

        ALLOWED = ("airflow.providers.openlineage", "airflow.providers.openlineage.get_provider_info")

        class Blocker:  # Airflow's settings read every installed provider's info; the rest is out
            def find_spec(self, name, path=None, target=None):
                if "openlineage" in name and name not in ALLOWED:
                    raise ImportError(f"{name} is not installed")

        sys.meta_path.insert(0, Blocker())
        from airflow.sdk.execution_time.context import OutletEventAccessors
        from airflow_campaign_provider.operators import campaign, contact_list, results, schedule, update, voice, sms_text

        upload = contact_list.UploadContactsOperator(task_id="u", contact_list_id="cl-1", contacts=["+14155550100"])
        upload.__dict__["hook"] = SimpleNamespace(settings=SimpleNamespace(base_url="https://h", stream_id="st-1"))
        events = OutletEventAccessors()
        upload._record_outcome({"outlet_events": events}, {"contact_list_name": "VIP", "sent": 1})
        (event,) = events[upload.outlets[-1]].asset_alias_events
        print(event.dest_asset_key.uri)
        print(sorted(m for m in sys.modules if "openlineage" in m and m not in ALLOWED))
        """
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-2:] == ["kore://h/st-1/contact-list/vip", "[]"]


def test_a_resource_parses_back_from_its_uri() -> None:
    resource = KoreResource.of("campaign", "Spring/Sale", stream_id=STREAM, host="127.0.0.1:8000")
    assert KoreResource.from_uri(resource.uri) == resource


def _teardown_report() -> dict[str, Any]:
    return {
        "campaign_type": "sms",
        "dry_run": False,
        "campaigns": [
            {
                "campaign_id": "cd-1",
                "action": "stopped_and_deleted",
                "status": "Active",
                "name": "Spring Sale",
            },
            {"campaign_id": "cd-2", "action": "deleted", "status": "Completed", "name": "Autumn"},
            {"campaign_id": "cd-3", "action": "already_gone", "status": None, "name": None},
            {"campaign_id": "cd-4", "action": "deleted", "status": "Completed", "name": None},
        ],
    }


def test_a_teardown_publishes_only_on_the_campaigns_the_dag_declared(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from airflow_campaign_provider.operators.teardown import TeardownCampaignsOperator

    spring = kore_campaign_asset("Spring Sale", stream_id=STREAM)
    kept = kore_campaign_asset("Winter", stream_id=STREAM)
    teardown = TeardownCampaignsOperator(task_id="teardown", campaign_ids=["cd-1"], outlets=[spring, kept])

    events = _publish(teardown, _teardown_report())

    assert CAMPAIGNS_ALIAS not in teardown.outlets  # thousands of campaigns: no asset for each
    assert events[spring].extra == {
        "campaign_id": "cd-1",
        "campaign_type": "sms",
        "status_before": "Active",
        "action": "stopped_and_deleted",
        "operation": "teardown",
    }
    assert events[kept].extra == {}
    assert caplog.text.count("names a campaign this task did not change") == 1


def test_a_teardown_reports_each_campaign_it_deleted_by_name_as_dropped() -> None:
    from airflow_campaign_provider.operators.teardown import TeardownCampaignsOperator

    teardown = TeardownCampaignsOperator(task_id="teardown", campaign_ids=["cd-1"])
    teardown.__dict__["hook"] = _Hook()
    teardown._record_outcome({"outlet_events": OutletEventAccessors()}, _teardown_report())

    lineage = teardown.get_openlineage_facets_on_complete(None)

    # the campaign already gone and the one whose name the teardown did not learn are left out:
    # learning names would cost a request per campaign
    host = kore_host(_Hook.settings.base_url)
    assert [d.name for d in lineage.outputs] == [
        KoreResource.of("campaign", name, stream_id=STREAM, host=host).openlineage_name
        for name in ("Spring Sale", "Autumn")
    ]
    assert {d.facets["lifecycleStateChange"].lifecycleStateChange.value for d in lineage.outputs} == {"DROP"}


def test_creating_and_deleting_campaigns_are_lifecycle_changes_in_openlineage() -> None:
    from airflow_campaign_provider.operators.campaign import CreateSmsCampaignOperator, DeleteCampaignOperator

    create = CreateSmsCampaignOperator(task_id="create", **valid_args(name="Spring Sale"))
    delete = DeleteCampaignOperator(task_id="delete", campaign_id="cd-1")
    changes = {}
    for operator, result in ((create, "cd-1"), (delete, {"campaign_id": "cd-1", "name": "Spring Sale"})):
        operator.__dict__["hook"] = _Hook()
        operator._record_outcome({"outlet_events": OutletEventAccessors()}, result)
        (output,) = operator.get_openlineage_facets_on_complete(None).outputs
        changes[operator.task_id] = output.facets["lifecycleStateChange"].lifecycleStateChange.value
    assert changes == {"create": "CREATE", "delete": "DROP"}


def test_a_teardown_that_failed_part_way_reports_what_it_did_delete() -> None:
    from airflow_campaign_provider.lifecycle.teardown import (
        CampaignOutcome,
        TeardownAction,
        TeardownIncompleteError,
        TeardownReport,
    )
    from airflow_campaign_provider.operators.teardown import TeardownCampaignsOperator

    report = TeardownReport("sms", dry_run=False)
    report.outcomes += [
        CampaignOutcome("cd-1", TeardownAction.DELETED, "Completed", "Autumn"),
        CampaignOutcome("cd-2", TeardownAction.FAILED, "Active", "Winter", reason="stop refused"),
    ]
    teardown = TeardownCampaignsOperator(task_id="teardown", campaign_ids=["cd-1", "cd-2"])
    teardown.__dict__["hook"] = _Hook()
    teardown._kore_error = TeardownIncompleteError(report)

    lineage = teardown.get_openlineage_facets_on_failure(None)

    (dropped,) = lineage.outputs
    assert (
        dropped.name
        == KoreResource.of("campaign", "Autumn", stream_id=STREAM, host="platform.kore.ai").openlineage_name
    )
    assert "stop refused" in lineage.run_facets["errorMessage"].message
