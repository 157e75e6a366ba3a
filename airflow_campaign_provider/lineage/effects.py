"""What a campaign operator read and changed, from its arguments and what it returned.

One description serves both the asset events an operator publishes and the OpenLineage events
it reports, so the two never disagree. Operators are recognised by class name (this module
imports none of them, which keeps it out of any import circle); an operator it does not know
describes nothing. Nothing here makes a request or imports the OpenLineage provider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.assets import (
    CAMPAIGN,
    CAMPAIGNS_ALIAS,
    CONTACT_LIST,
    CONTACT_LISTS_ALIAS,
    RESULTS_ALIAS,
    KoreResource,
)

if TYPE_CHECKING:
    from airflow.sdk import AssetAlias


@dataclass
class KoreTouch:
    """A contact list or campaign an operator read or changed; ``name`` None when the task did not
    learn it (it acted by id), ``extra`` the ids, counts and statuses of what it did."""

    kind: str
    name: str | None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Whether the change is an asset event: a list is "refreshed" when contacts are added (or it
    #: is deleted), not when it is created empty; a campaign by every change of its state.
    published: bool = True

    def resource(self, host: str, stream_id: str) -> KoreResource | None:
        if not self.name:
            return None
        return KoreResource.of(self.kind, self.name, stream_id=stream_id, host=host)


@dataclass
class Effects:
    """The Kore objects a task read (``inputs``) and changed (``outputs``), and its files."""

    inputs: list[KoreTouch] = field(default_factory=list)
    outputs: list[KoreTouch] = field(default_factory=list)
    #: Where the contacts came from (a file URL), or None for contacts passed in (e.g. by XCom).
    contacts_source: str | None = None
    #: The tasks whose XCom the contacts were (a SQL task's lineage names the table read).
    contacts_producers: list[Any] = field(default_factory=list)
    phone_column: str | None = None
    #: Contacts read from the source: valid and rejected rows.
    contacts_valid: int | None = None
    contacts_rejected: int | None = None
    #: The file of results an export wrote, and its rows.
    results_path: str | None = None
    results_rows: int | None = None
    results_summary: dict[str, Any] = field(default_factory=dict)


def _file_url(value: Any) -> str | None:
    """A file or ``ObjectStoragePath`` as a URL (a local path gets ``file://``); None for data."""
    if value is None or isinstance(value, (list, tuple, dict)):
        return None
    text = str(value).strip()
    if not text or "\n" in text:
        return None
    if "://" in text:
        return text
    from pathlib import Path

    return Path(text).absolute().as_uri()


def _xcom_producers(op: Any, argument: str) -> list[Any]:
    """The tasks whose XCom fed ``argument``, as the DAG file wrote it (before rendering)."""
    from airflow.sdk.definitions.xcom_arg import XComArg

    has_dag = getattr(op, "has_dag", None)
    written = op.dag.task_dict.get(op.task_id) if callable(has_dag) and has_dag() else None
    if written is None:
        return []
    value = getattr(written, "partial_kwargs", {}).get(argument)
    expand_input = getattr(getattr(written, "expand_input", None), "value", None)
    if value is None and isinstance(expand_input, Mapping):
        value = expand_input.get(argument)
    if value is None and not hasattr(written, "partial_kwargs"):
        value = getattr(written, argument, None)
    producers: dict[str, Any] = {}
    for task, _ in XComArg.iter_xcom_references(value):
        producers.setdefault(task.task_id, task)
    return list(producers.values())


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _create_contact_list(op: Any, result: Any) -> Effects:
    extra = {"contact_list_id": result} if result else {}
    touch = KoreTouch(CONTACT_LIST, op.name, {**extra, "operation": "create"}, published=False)
    return Effects(outputs=[touch])


def _upload_contacts(op: Any, result: Any) -> Effects:
    report = dict(result) if isinstance(result, Mapping) else {}
    name = report.get("contact_list_name")
    extra = {"contact_list_id": op.contact_list_id, **report, "operation": "upload"}
    valid = None
    if report:
        valid = sum(_int(report.get(key)) or 0 for key in ("sent", "already_present", "repeated_in_input"))
    return Effects(
        outputs=[KoreTouch(CONTACT_LIST, name, extra)],
        contacts_source=_file_url(op.contacts),
        contacts_producers=[] if _file_url(op.contacts) else _xcom_producers(op, "contacts"),
        phone_column=op.phone_column,
        contacts_valid=valid,
        contacts_rejected=_int(report.get("rejected")),
    )


def _delete_contact_list(op: Any, result: Any) -> Effects:
    extra = {"contact_list_id": op.contact_list_id, "deleted": result is not None, "operation": "delete"}
    return Effects(outputs=[KoreTouch(CONTACT_LIST, None, extra)])


def _create_campaign(op: Any, result: Any) -> Effects:
    campaign_type = str(getattr(op, "campaign_type", "sms")).lower()
    lists = op.contact_lists if isinstance(op.contact_lists, (list, tuple)) else [op.contact_lists]
    extra = {
        "campaign_id": result,
        "campaign_type": campaign_type,
        # execute returns once the campaign left Preparing, when it waits for that
        "status": "Ready" if result and op.wait_for_ready else None,
        "operation": "create",
    }
    return Effects(
        inputs=[KoreTouch(CONTACT_LIST, str(name)) for name in lists if name],
        outputs=[KoreTouch(CAMPAIGN, op.name, extra)],
    )


def _lifecycle(operation: str) -> Callable[[Any, Any], Effects]:
    """Start and stop: the campaign by id, and the status it was left in."""

    def describe(op: Any, result: Any) -> Effects:
        extra = {
            "campaign_id": op.campaign_id,
            "campaign_type": str(op.campaign_type).lower(),
            "status": result if isinstance(result, str) else None,
            "operation": operation,
        }
        return Effects(outputs=[KoreTouch(CAMPAIGN, None, extra)])

    return describe


def _campaign_summary(operation: str) -> Callable[[Any, Any], Effects]:
    """Update, delete and the schedule operators: their summary names the campaign."""

    def describe(op: Any, result: Any) -> Effects:
        summary = dict(result) if isinstance(result, Mapping) else {}
        name = summary.get("name") or getattr(op, "campaign_name", None)
        extra = {
            "campaign_id": getattr(op, "campaign_id", None),
            "campaign_type": str(op.campaign_type).lower(),
            **summary,
            "operation": operation,
        }
        return Effects(outputs=[KoreTouch(CAMPAIGN, name, extra)])

    return describe


def _export_results(op: Any, result: Any) -> Effects:
    summary = dict(result) if isinstance(result, Mapping) else {}
    rows = _int(summary.get("rows"))
    if rows is None and summary.get("per_contact") is False:
        rows = 1  # an SMS campaign's one record of totals
    campaign = {"campaign_id": op.campaign_id, "campaign_type": str(op.campaign_type).lower()}
    return Effects(
        inputs=[KoreTouch(CAMPAIGN, None, campaign)],
        results_path=_file_url(summary.get("path") or op.path),
        results_rows=rows,
        results_summary=summary,
    )


def _teardown(op: Any, result: Any) -> Effects:
    """Each campaign the teardown deleted whose name it learnt (from a list page or a status
    read): no request is made to learn the others'. A teardown that failed part way reports
    the ones it did delete, from its error's report."""
    from airflow_campaign_provider.lifecycle.teardown import DELETING_ACTIONS, TeardownIncompleteError

    if result is None and isinstance(op._kore_error, TeardownIncompleteError):
        result = op._kore_error.report.to_dict()
    report = dict(result) if isinstance(result, Mapping) else {}
    campaign_type = str(report.get("campaign_type") or op.campaign_type).lower()
    outputs = [
        KoreTouch(
            CAMPAIGN,
            str(campaign["name"]),
            {
                "campaign_id": campaign.get("campaign_id"),
                "campaign_type": campaign_type,
                "status_before": campaign.get("status"),
                "action": campaign["action"],
                "operation": "teardown",
            },
        )
        for campaign in report.get("campaigns") or []
        if isinstance(campaign, Mapping)
        and campaign.get("name")
        and campaign.get("action") in DELETING_ACTIONS
    ]
    return Effects(outputs=outputs)


#: Each operator (by class name, the first in its MRO that is here): the alias its changes are
#: published through (None: only on the assets the DAG declares), and how it is described.
DESCRIBERS: dict[str, tuple[AssetAlias | None, Callable[[Any, Any], Effects]]] = {
    "CreateContactListOperator": (CONTACT_LISTS_ALIAS, _create_contact_list),
    "UploadContactsOperator": (CONTACT_LISTS_ALIAS, _upload_contacts),
    "DeleteContactListOperator": (CONTACT_LISTS_ALIAS, _delete_contact_list),
    "CreateCampaignBaseOperator": (CAMPAIGNS_ALIAS, _create_campaign),
    "StartCampaignOperator": (CAMPAIGNS_ALIAS, _lifecycle("start")),
    "StopCampaignOperator": (CAMPAIGNS_ALIAS, _lifecycle("stop")),
    "UpdateCampaignOperator": (CAMPAIGNS_ALIAS, _campaign_summary("update")),
    "DeleteCampaignOperator": (CAMPAIGNS_ALIAS, _campaign_summary("delete")),
    "EnableCampaignScheduleOperator": (CAMPAIGNS_ALIAS, _campaign_summary("schedule")),
    "DisableCampaignScheduleOperator": (CAMPAIGNS_ALIAS, _campaign_summary("unschedule")),
    "ExportCampaignResultsOperator": (RESULTS_ALIAS, _export_results),
    # thousands of campaigns in one task: an alias would create an asset for each
    "TeardownCampaignsOperator": (None, _teardown),
}


def _entry(operator_class: type) -> tuple[AssetAlias | None, Callable[[Any, Any], Effects]] | None:
    for cls in operator_class.__mro__:
        if cls.__name__ in DESCRIBERS:
            return DESCRIBERS[cls.__name__]
    return None


def effects_of(operator: Any, result: Any = None) -> Effects:
    """What ``operator`` read and changed; ``result`` is what its execute returned (None: it failed)."""
    entry = _entry(type(operator))
    return entry[1](operator, result) if entry else Effects()


def alias_of(operator_class: type) -> AssetAlias | None:
    """The asset alias an operator of ``operator_class`` publishes its changes through, if it
    changes anything."""
    entry = _entry(operator_class)
    return entry[0] if entry else None
