"""ExportCampaignResultsOperator: a campaign's per-contact results to a file, with a summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.operators.arguments import raise_problems
from airflow_campaign_provider.operators.base import TargetCampaignBaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context, ObjectStoragePath

FORMATS = ("csv", "jsonl")
MAX_PAGE_SIZE = 100


class ExportCampaignResultsOperator(TargetCampaignBaseOperator):
    """
    Write a campaign's results to ``path`` (an ``ObjectStoragePath``: local, S3, GCS… whatever
    fsspec filesystem is installed) as CSV or JSON Lines, and return a summary for XCom.

    A voice campaign's per-contact results (``view=contacts``) are paged through, at most 100
    rows a call, and streamed to the file as they arrive; the summary counts rows, rows by
    ``dialerOutcome`` (blank, i.e. still calling, counts as ``"in progress"``) and attempts. CSV
    has Kore's documented columns (lists as JSON); JSON Lines keeps every field Kore sends. Pages
    are read through the bounded pager: a row Kore sends twice is written once, and a read whose
    pages never end fails at the page cap instead of growing the file for ever.

    CSV cells are made safe to open in a spreadsheet, as OWASP advises against CSV injection: a
    cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'`` (``=HYPERLINK(…)`` is written ``'=HYPERLINK(…)``, and a number written with its
    ``+`` as ``'+14155550100``), so no value from Kore runs as a formula. JSON Lines is left as sent.

    Kore exposes no per-contact results for an SMS campaign, only ``totalMessagesSent``: for SMS
    the file holds that one campaign-level record and the summary says ``per_contact: False``.
    Asking for ``per_contact=True`` on an SMS campaign is an error, raised before any call.

    :param campaign_id: The campaign's id (``cd-…``).
    :param campaign_type: ``"sms"`` (default) or ``"voice"``.
    :param path: Where to write, a string or ``ObjectStoragePath`` (templated), e.g.
        ``"s3://bucket/results/{{ ds }}.csv"``; an existing file is replaced.
    :param file_format: ``"csv"`` (default) or ``"jsonl"``.
    :param per_contact: Require per-contact rows (True), or accept what the type offers (None).
    :param storage_conn_id: Airflow connection for the object store, if it needs one.
    :param page_size: Rows per call, 1 to 100 (Kore's maximum, the default).
    :param stream_id: Bot/stream id overriding the connection's.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    """

    template_fields: Sequence[str] = (*TargetCampaignBaseOperator.template_fields, "path")

    def __init__(
        self,
        *,
        path: str | ObjectStoragePath,
        file_format: str = "csv",
        per_contact: bool | None = None,
        storage_conn_id: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.file_format = file_format
        self.per_contact = per_contact
        self.storage_conn_id = storage_conn_id
        self.page_size = page_size
        arguments = ("path", "file_format", "per_contact", "page_size")
        raise_problems(self._problems(), {name: getattr(self, name) for name in arguments})

    def _problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.file_format not in FORMATS:
            problems.append(("file_format", f"must be one of {', '.join(FORMATS)}, got {self.file_format!r}"))
        if self.per_contact not in (None, True, False):
            problems.append(("per_contact", f"must be True, False or None, got {self.per_contact!r}"))
        if self.per_contact and str(self.campaign_type).lower() == "sms":
            problems.append(
                ("per_contact", "Kore has no per-contact results for SMS campaigns, only totalMessagesSent")
            )
        size = self.page_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
            problems.append(("page_size", f"must be a whole number from 1 to {MAX_PAGE_SIZE}, got {size!r}"))
        if not str(self.path or "").strip():
            problems.append(("path", "must name a file"))
        return problems

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk import ObjectStoragePath

        from airflow_campaign_provider.results import write_rows, write_totals

        campaign_id, campaign_type = self._target()
        raise_problems(self._problems())
        path = ObjectStoragePath(self.path, conn_id=self.storage_conn_id)
        # A local folder must exist before a file opens in it (object stores have none to make).
        path.parent.mkdir(parents=True, exist_ok=True)
        summary: dict[str, Any] = {
            "campaign_id": campaign_id,
            "campaign_type": campaign_type,
            "path": str(path),
        }
        summary["file_format"] = self.file_format
        if campaign_type == "sms":
            campaign = self.hook.get_campaign(campaign_id)
            totals = {
                "campaign_id": campaign_id,
                "campaign_type": campaign_type,
                "status": campaign.get("status"),
                "totalMessagesSent": campaign.get("totalMessagesSent"),
            }
            with path.open("w", newline="") as out:
                write_totals(totals, out, self.file_format)
            self.log.info(
                "Kore.ai exposes only totalMessagesSent for SMS campaign %s (%s); wrote that to %s, "
                "no per-contact rows.",
                campaign_id,
                totals["totalMessagesSent"],
                path,
            )
            return {**summary, "per_contact": False, "total_messages_sent": totals["totalMessagesSent"]}
        rows = self.hook.iter_contact_results(campaign_id, self.page_size)
        with path.open("w", newline="") as out:
            written = write_rows(rows, out, self.file_format)
        self.log.info("Wrote %d contact results of campaign %s to %s.", written.rows, campaign_id, path)
        return {**summary, "per_contact": True, **written.to_dict()}
