"""Segmented SMS campaigns from a contact file: the file decides who is texted, each number once.

Use this when a data team owns the audience: a contact file (``data/contacts.csv``: ``phone``,
``first_name``, ``segment``) says who belongs to which segment, and each segment gets a Kore.ai
contact list and a campaign of its own, from the approved template "Segment offer".

1. ``plan_segments`` checks the file and splits it, streamed, into one CSV per segment under
   ``staging_path`` (an ``ObjectStoragePath``: a local folder, ``s3://…``). Each rejected row
   is logged with its line number and every reason: a phone number that cannot be read (numbers
   may be written as people write them, ``+1 (415) 555-0201``, or nationally with the
   ``default_region`` param; each is written out as E.164), a number already listed however it
   is written, an unknown segment, an empty first name. More rejected rows than
   ``max_invalid_rows`` fail the run before anything reaches Kore, because a broken export
   should not reach anyone's phone.
2. ``create_contact_list`` makes one list per segment for this run (its name carries the run's
   date), refusing duplicates; ``upload_contacts`` fills it from that segment's file and waits
   until Kore's asynchronous import shows every contact.
3. ``create_campaign`` makes one campaign per segment from its list, ``start_campaign`` sends
   it, and ``wait_for_completion`` waits for all of them with the deferrable sensor. Kore texts
   the numbers in the list, minus the "Do not text" list.
4. When every campaign has completed, ``export_results`` writes each one's results next to its
   segment's file, and ``publish_finished`` names the campaigns and then the
   lists on the asset ``kore_campaigns_finished``, and ``kore_campaign_teardown`` deletes the
   campaigns, then the lists. A run that fails leaves them in Kore for a person to look at.

Each Kore task publishes an asset event for the list or campaign it changed (schedule a DAG on
``kore_contact_list_asset(...)``), and with the OpenLineage provider installed reports the chain
segment file → contact list → campaign → results file (``docs/lineage.md``).

Every task is safe to retry. A retried upload reads what its list already holds and sends only
the rest, and the list refuses a number twice anyway; the list and campaign creates reuse a
same-named list or campaign instead of making a second one.

Connection: ``kore_campaign_default``.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG, Asset, ObjectStoragePath, Param, task

from airflow_campaign_provider.operators.campaign import CreateSmsCampaignOperator, StartCampaignOperator
from airflow_campaign_provider.operators.contact_list import CreateContactListOperator, UploadContactsOperator
from airflow_campaign_provider.operators.results import ExportCampaignResultsOperator
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor

if TYPE_CHECKING:
    from collections.abc import Iterable

log = logging.getLogger(__name__)

#: Seconds between two status reads. Campaigns run for minutes to hours, so 30 s is plenty;
#: the demo and the tests set KORE_EXAMPLE_POLL_SECONDS=1 so that a run takes seconds.
POLL_SECONDS = float(os.environ.get("KORE_EXAMPLE_POLL_SECONDS", "30"))

SEGMENTS = ("gold", "silver", "bronze")
COLUMNS = ("phone", "first_name", "segment")

#: The body of the approved template, word for word: Kore.ai checks the two match.
SEGMENT_OFFER = (
    "Hi <First Name>, as one of our <Segment> members you get early access to this season's "
    "offers. Reply STOP to opt out."
)

#: Published when this DAG's campaigns have all completed; ``extra`` names them and their lists.
CAMPAIGNS_FINISHED = Asset(name="kore_campaigns_finished")


class ContactFileError(ValueError):
    """The contact file cannot be read as a contact file at all."""


def split_contact_file(
    path: Path, out_dir: ObjectStoragePath, default_region: str | None = None
) -> tuple[dict[str, int], list[str]]:
    """Write each segment's valid rows to ``out_dir/<segment>.csv``, streamed, in file order,
    numbers as E.164 (``default_region`` reads those written without a country code).

    Returns how many rows each segment got (segments without one are left out, and get no
    file) and one line per rejected row. A number's first valid row wins: a later row with the
    same number, however written, is rejected, so nobody is in two segments.
    """
    from airflow_campaign_provider.phones import PhoneNumberProblem, to_e164  # not at DAG parse

    counts = dict.fromkeys(SEGMENTS, 0)
    first_seen: dict[str, int] = {}
    problems: list[str] = []
    writers: dict[str, Any] = {}
    files: list[Any] = []
    try:
        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
            if missing:
                raise ContactFileError(
                    f"{path.name}: missing column(s) {', '.join(missing)}; the header must name "
                    f"{', '.join(COLUMNS)}"
                )
            for row in reader:
                phone, first_name, segment = ((row.get(column) or "").strip() for column in COLUMNS)
                reasons = []
                try:
                    phone = to_e164(phone, default_region)
                except PhoneNumberProblem as problem:
                    reasons.append(str(problem))
                else:
                    if phone in first_seen:
                        reasons.append(f"phone {phone} is already on line {first_seen[phone]}")
                if segment not in SEGMENTS:
                    reasons.append(f"segment {segment!r} is not one of {', '.join(SEGMENTS)}")
                if not first_name:
                    reasons.append("first_name is empty")
                if reasons:
                    problems.append(f"line {reader.line_num}: {'; '.join(reasons)}")
                    continue
                first_seen[phone] = reader.line_num
                if segment not in writers:
                    out_dir.mkdir(parents=True, exist_ok=True)
                    files.append((out_dir / f"{segment}.csv").open("w", newline="", encoding="utf-8"))
                    writers[segment] = csv.writer(files[-1])
                    writers[segment].writerow(("phone", "first_name"))
                writers[segment].writerow((phone, first_name))
                counts[segment] += 1
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ContactFileError(f"cannot read the contact file {path}: {error}") from error
    finally:
        for out in files:
            out.close()
    return {segment: count for segment, count in counts.items() if count}, problems


def segment_plan(counts: dict[str, int], out_dir: ObjectStoragePath, stamp: str) -> list[dict[str, Any]]:
    """What each segment's tasks need; ``stamp`` makes list and campaign names unique per run."""
    return [
        {
            "segment": segment,
            "list_name": f"Season {segment} {stamp}",
            "campaign_name": f"Season offer {segment} {stamp}",
            "contacts_file": str(out_dir / f"{segment}.csv"),
            "results_file": str(out_dir / f"{segment}-results.csv"),
            "count": count,
        }
        for segment, count in counts.items()
    ]


def list_arguments(segment: dict[str, Any]) -> dict[str, Any]:
    """``CreateContactListOperator`` arguments of one segment."""
    return {
        "name": segment["list_name"],
        "description": f"The {segment['segment']} segment of the contact file.",
    }


def upload_arguments(created_and_segment: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """``UploadContactsOperator`` arguments: the list just created, filled from its segment's file."""
    contact_list_id, segment = created_and_segment
    return {"contact_list_id": contact_list_id, "contacts": segment["contacts_file"]}


def campaign_arguments(segment: dict[str, Any]) -> dict[str, Any]:
    """``CreateSmsCampaignOperator`` arguments of one segment's campaign, sent to its list."""
    return {
        "name": segment["campaign_name"],
        "description": f"Season offer to the {segment['count']} {segment['segment']} contacts of the file.",
        "contact_lists": [segment["list_name"]],
    }


def export_arguments(created_and_segment: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """``ExportCampaignResultsOperator`` arguments: the segment's campaign, to its results file."""
    campaign_id, segment = created_and_segment
    return {"campaign_id": campaign_id, "path": segment["results_file"]}


with DAG(
    dag_id="kore_campaign_segments",
    description="One Kore.ai contact list and SMS campaign per segment of a contact file.",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 6, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
    params={
        "contacts_file": Param(
            "data/contacts.csv",
            type="string",
            minLength=1,
            description="CSV file with the columns phone, first_name, segment; relative to this DAG's folder.",
        ),
        "default_region": Param(
            "US",
            type=["string", "null"],
            description="Region (US, GB, IN…) of numbers the file writes without a country code.",
        ),
        "max_invalid_rows": Param(
            5,
            type="integer",
            minimum=0,
            description="Fail before sending anything when more rows than this are rejected.",
        ),
        "staging_path": Param(
            "file:///tmp/kore_campaign_segments",
            type="string",
            minLength=1,
            description="Where each run writes its per-segment files (any ObjectStoragePath URL).",
        ),
    },
    tags=["kore", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def plan_segments(**context: Any) -> list[dict[str, Any]]:
        """Check the contact file and split it into one file per segment."""
        params, dag_run = context["params"], context["dag_run"]
        path = Path(__file__).parent / params["contacts_file"]
        out_dir = ObjectStoragePath(params["staging_path"]) / re.sub(r"[^\w.-]", "_", dag_run.run_id)
        try:
            counts, problems = split_contact_file(path, out_dir, params["default_region"])
        except ContactFileError as error:
            raise AirflowFailException(str(error)) from error
        for problem in problems:
            log.warning("%s rejected, %s", path.name, problem)
        if len(problems) > params["max_invalid_rows"]:
            raise AirflowFailException(
                f"{path.name}: {len(problems)} rows rejected, more than max_invalid_rows="
                f"{params['max_invalid_rows']}; nothing was sent. Fix the file:\n" + "\n".join(problems)
            )
        if not counts:
            raise AirflowFailException(f"{path.name}: no valid row, so no campaign to send.")
        for segment, count in counts.items():
            log.info("Segment %s: %d contacts.", segment, count)
        return segment_plan(counts, out_dir, dag_run.run_after.strftime("%Y%m%dT%H%M%S"))

    @task(outlets=[CAMPAIGNS_FINISHED])
    def publish_finished(
        campaign_ids: Iterable[str], contact_list_ids: Iterable[str], **context: Any
    ) -> list[str]:
        """Name the completed campaigns and their lists on the asset, for whoever cleans them up."""
        finished, lists = list(campaign_ids), list(contact_list_ids)
        context["outlet_events"][CAMPAIGNS_FINISHED].extra = {
            "campaign_ids": finished,
            "contact_list_ids": lists,
        }
        log.info(
            "Published %d completed campaigns (%s) and their lists (%s).", len(finished), finished, lists
        )
        return finished

    plan = plan_segments()
    create_list = CreateContactListOperator.partial(task_id="create_contact_list").expand_kwargs(
        plan.map(list_arguments)
    )
    upload = UploadContactsOperator.partial(
        task_id="upload_contacts", poll_interval=POLL_SECONDS, import_timeout=600
    ).expand_kwargs(create_list.output.zip(plan).map(upload_arguments))
    create = CreateSmsCampaignOperator.partial(
        task_id="create_campaign",
        template_name="Segment offer",
        message=SEGMENT_OFFER,
        caller_id="+14155550100",
        calling_hours={
            "frequency": "DAILY",
            "timezone": "America/New_York",
            "days": [
                {"day": day, "start": "10:00 AM", "end": "7:00 PM"} for day in ("MO", "TU", "WE", "TH", "FR")
            ],
        },
        dnc_list="Do not text",
        poll_interval=POLL_SECONDS,
    ).expand_kwargs(plan.map(campaign_arguments))
    start = StartCampaignOperator.partial(task_id="start_campaign").expand(campaign_id=create.output)
    wait = CampaignStatusSensor.partial(
        task_id="wait_for_completion",
        target_statuses=("Completed",),
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=timedelta(hours=12),
    ).expand(campaign_id=create.output)

    export = ExportCampaignResultsOperator.partial(task_id="export_results").expand_kwargs(
        create.output.zip(plan).map(export_arguments)
    )

    upload >> create
    start >> wait >> [export, publish_finished(create.output, create_list.output)]
