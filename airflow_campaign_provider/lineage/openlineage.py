"""OpenLineage datasets and facets of a campaign operator's run: imported only by the OpenLineage
provider's calls (``get_openlineage_facets_on_complete``/``_on_failure``), so only when it is
installed.

The chain a governance tool sees: the contacts file (its phone column tagged PII, its rows and
rejects) → the Kore contact list (the contacts sent, its size after the upload) → the campaign
(its type and status) → the results file (its rows). Kore datasets are named as the ``kore://``
assets are: namespace ``kore://{host}``, name ``{stream_id}/{contact-list|campaign}/{name}``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attr
from airflow.providers.openlineage.extractors import OperatorLineage
from openlineage.client.generated.base import (
    DatasetFacet,
    InputDataset,
    InputDatasetFacet,
    OutputDataset,
    OutputDatasetFacet,
)
from openlineage.client.generated.data_quality_metrics_input_dataset import (
    ColumnMetrics,
    DataQualityMetricsInputDatasetFacet,
)
from openlineage.client.generated.dataset_type_dataset import DatasetTypeDatasetFacet
from openlineage.client.generated.error_message_run import ErrorMessageRunFacet
from openlineage.client.generated.lifecycle_state_change_dataset import (
    LifecycleStateChange,
    LifecycleStateChangeDatasetFacet,
)
from openlineage.client.generated.output_statistics_output_dataset import OutputStatisticsOutputDatasetFacet
from openlineage.client.generated.schema_dataset import SchemaDatasetFacet, SchemaDatasetFacetFields
from openlineage.client.generated.tags_dataset import TagsDatasetFacet, TagsDatasetFacetFields

from airflow_campaign_provider.assets import CAMPAIGN, CONTACT_LIST

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_campaign_provider.lineage.effects import Effects, KoreTouch

_SCHEMA_URL = (
    "https://github.com/kore-campaigns/airflow-campaign-provider/blob/main/docs/openlineage-facets.json"
)
#: The column of a contact list: the number Kore texts or calls.
LIST_PHONE_COLUMN = "phone"
PII_SOURCE = "airflow-campaign-provider"


@attr.define
class KoreContactListDatasetFacet(DatasetFacet):
    """A Kore.ai contact list: its id and how many contacts it holds after this task."""

    contactListId: str | None = attr.field(default=None)
    size: int | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMA_URL}#/$defs/KoreContactListDatasetFacet"


@attr.define
class KoreCampaignDatasetFacet(DatasetFacet):
    """A Kore.ai campaign: its id, type (sms or voice) and the status this task left it in."""

    campaignId: str | None = attr.field(default=None)
    campaignType: str | None = attr.field(default=None)
    status: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMA_URL}#/$defs/KoreCampaignDatasetFacet"


def _pii_phone_facets(column: str) -> dict[str, Any]:
    """The schema facet of a phone column, and its PII tag."""
    return {
        "schema": SchemaDatasetFacet(
            fields=[SchemaDatasetFacetFields(name=column, type="string", description="E.164 phone number")]
        ),
        "tags": TagsDatasetFacet(
            tags=[TagsDatasetFacetFields(key="pii", value="true", source=PII_SOURCE, field=column)]
        ),
    }


def file_dataset_name(url: str) -> tuple[str, str]:
    """OpenLineage's namespace and name of a file: ``file`` and its path, or ``s3://bucket`` and
    its key (as the file and object-store asset converters name them)."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        return ("file" if not parts.netloc else f"file://{parts.netloc}"), parts.path
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")


#: The operations that make or remove a list or campaign, as OpenLineage's lifecycle change.
_LIFECYCLE_CHANGES = {
    "create": LifecycleStateChange.CREATE,
    "delete": LifecycleStateChange.DROP,
    "teardown": LifecycleStateChange.DROP,
}


def _kore_facets(touch: KoreTouch) -> dict[str, Any]:
    change = _LIFECYCLE_CHANGES.get(str(touch.extra.get("operation")))
    lifecycle = {"lifecycleStateChange": LifecycleStateChangeDatasetFacet(change)} if change else {}
    return {**_kind_facets(touch), **lifecycle}


def _kind_facets(touch: KoreTouch) -> dict[str, Any]:
    extra = touch.extra
    if touch.kind == CONTACT_LIST:
        return {
            **_pii_phone_facets(LIST_PHONE_COLUMN),
            "datasetType": DatasetTypeDatasetFacet(datasetType="CONTACT_LIST", subType="kore"),
            "koreContactList": KoreContactListDatasetFacet(
                contactListId=extra.get("contact_list_id"), size=_count(extra.get("total_in_list"))
            ),
        }
    return {
        "datasetType": DatasetTypeDatasetFacet(datasetType="CAMPAIGN", subType=extra.get("campaign_type")),
        "koreCampaign": KoreCampaignDatasetFacet(
            campaignId=extra.get("campaign_id"),
            campaignType=extra.get("campaign_type"),
            status=extra.get("status"),
        ),
    }


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def operator_lineage(
    effects: Effects,
    host: str,
    stream_id: str,
    name_of_campaign: Callable[[str], str | None],
    error: BaseException | None = None,
) -> OperatorLineage:
    """The lineage of one run; ``name_of_campaign`` reads a campaign's name the task did not learn."""
    inputs: list[InputDataset] = []
    outputs: list[OutputDataset] = []
    if effects.contacts_source:
        namespace, name = file_dataset_name(effects.contacts_source)
        column = effects.phone_column or LIST_PHONE_COLUMN
        input_facets: dict[str, InputDatasetFacet] = {}
        if effects.contacts_valid is not None:
            rows = effects.contacts_valid + (effects.contacts_rejected or 0)
            input_facets["dataQualityMetrics"] = DataQualityMetricsInputDatasetFacet(
                columnMetrics={column: ColumnMetrics(count=float(effects.contacts_valid))}, rowCount=rows
            )
        inputs.append(
            InputDataset(namespace, name, facets=_pii_phone_facets(column), inputFacets=input_facets)
        )
    inputs.extend(_tables_of_producers(effects))
    for touch in effects.inputs:
        if resource := _resource(touch, host, stream_id, name_of_campaign):
            inputs.append(
                InputDataset(
                    resource.openlineage_namespace, resource.openlineage_name, facets=_kore_facets(touch)
                )
            )
    for touch in effects.outputs:
        if resource := _resource(touch, host, stream_id, name_of_campaign):
            output_facets: dict[str, OutputDatasetFacet] = {}
            if touch.kind == CONTACT_LIST and _count(touch.extra.get("sent")) is not None:
                output_facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(
                    rowCount=touch.extra["sent"]
                )
            outputs.append(
                OutputDataset(
                    resource.openlineage_namespace,
                    resource.openlineage_name,
                    facets=_kore_facets(touch),
                    outputFacets=output_facets,
                )
            )
    if effects.results_path:
        namespace, name = file_dataset_name(effects.results_path)
        statistics: dict[str, OutputDatasetFacet] = {}
        if effects.results_rows is not None:
            statistics["outputStatistics"] = OutputStatisticsOutputDatasetFacet(rowCount=effects.results_rows)
        outputs.append(OutputDataset(namespace, name, outputFacets=statistics))
    run_facets: dict[str, Any] = {}
    if error is not None:
        run_facets["errorMessage"] = ErrorMessageRunFacet(message=str(error), programmingLanguage="python")
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=run_facets)


def _tables_of_producers(effects: Effects) -> list[InputDataset]:
    """The tables a SQL task read, when the contacts were its XCom: that task's own lineage of its
    query (SQL operators report it before they run), the phone column tagged PII."""
    column = effects.phone_column or LIST_PHONE_COLUMN
    tables: list[InputDataset] = []
    for task in effects.contacts_producers:
        on_start = getattr(task, "get_openlineage_facets_on_start", None)
        if not callable(on_start):
            continue
        try:
            lineage = on_start()
        except Exception:
            log.warning(
                "Could not read the lineage of %s, the contacts' source.", task.task_id, exc_info=True
            )
            continue
        for dataset in getattr(lineage, "inputs", None) or []:
            facets = {**(dataset.facets or {}), "tags": _pii_phone_facets(column)["tags"]}
            tables.append(InputDataset(dataset.namespace, dataset.name, facets=facets))
    return tables


def _resource(
    touch: KoreTouch, host: str, stream_id: str, name_of_campaign: Callable[[str], str | None]
) -> Any:
    if touch.name is None and touch.kind == CAMPAIGN and touch.extra.get("campaign_id"):
        touch.name = name_of_campaign(str(touch.extra["campaign_id"]))
    return touch.resource(host, stream_id)
