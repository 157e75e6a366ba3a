"""Segmented SMS campaigns from a contact file: one campaign per segment, all sent, all waited on.

Use this when a data team owns the audience: a contact file (``data/contacts.csv``: ``phone``,
``first_name``, ``segment``) says who belongs to which segment, and each segment gets its own
campaign from the approved template "Segment offer". The file is checked and split in a TaskFlow
task, one campaign per segment is created with dynamic task mapping (as many as the file has
segments), all are started, and the DAG waits for every one of them with the deferrable sensor.

What the file decides, and what Kore.ai holds: Kore's Campaign API, the contract this provider
implements, has no contact-list upload. A campaign can only name contact lists that already
exist in Kore, so each segment maps to a Kore contact list of its own (``SEGMENT_LISTS``), which
whoever maintains the audience keeps in step with the file through Kore's contact import. The
file decides which segments get a campaign in this run. The numbers a campaign texts are the
ones in the Kore list, minus the "Do not text" list. The local sandbox's example seed
(``data/sandbox_seed.json``) holds lists that match ``data/contacts.csv``.

The file is checked before anything is sent. Each rejected row is logged with its line number
and every reason: a phone number not in E.164 form, a number already listed, an unknown segment,
an empty first name. More rejected rows than ``max_invalid_rows`` fail the run before any
campaign is created, because a broken export should not reach anyone's phone.

When every campaign has completed, the last task publishes their ids on the asset
``kore_campaigns_finished``, and ``kore_campaign_teardown`` deletes them. To keep them in Kore,
for reporting for example, drop that task. A run that fails leaves its campaigns in Kore for a
person to look at.

Connection: ``kore_campaign_default``. Each task is safe to retry: campaign names carry the run's
date, and the create reuses a same-named campaign instead of making a second one.
"""

from __future__ import annotations

import csv
import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import DAG, Asset, Param, task
from airflow.sdk.exceptions import AirflowFailException

from airflow_campaign_provider.models.common import is_e164
from airflow_campaign_provider.operators.campaign import CreateSmsCampaignOperator, StartCampaignOperator
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor

if TYPE_CHECKING:
    from collections.abc import Iterable

log = logging.getLogger(__name__)

#: Seconds between two status reads. Campaigns run for minutes to hours, so 30 s is plenty;
#: the demo and the tests set KORE_EXAMPLE_POLL_SECONDS=1 so that a run takes seconds.
POLL_SECONDS = float(os.environ.get("KORE_EXAMPLE_POLL_SECONDS", "30"))

#: Each segment of the file and the Kore.ai contact list that holds its numbers.
SEGMENT_LISTS = {"gold": "Segment gold", "silver": "Segment silver", "bronze": "Segment bronze"}
COLUMNS = ("phone", "first_name", "segment")

#: The body of the approved template, word for word: Kore.ai checks the two match.
SEGMENT_OFFER = (
    "Hi <First Name>, as one of our <Segment> members you get early access to this season's "
    "offers. Reply STOP to opt out."
)

#: Published when this DAG's campaigns have all completed; ``extra["campaign_ids"]`` names them.
CAMPAIGNS_FINISHED = Asset(name="kore_campaigns_finished", uri="kore://campaigns/finished")


class ContactFileError(ValueError):
    """The contact file cannot be read as a contact file at all."""


def read_segments(path: Path) -> tuple[dict[str, list[str]], list[str]]:
    """The valid phone numbers of each segment, in file order, and one line per rejected row.

    A number's first valid row wins: a later row with the same number is rejected, so nobody is
    in two segments. Segments without a valid row are left out.
    """
    segments: dict[str, list[str]] = {segment: [] for segment in SEGMENT_LISTS}
    first_seen: dict[str, int] = {}
    problems: list[str] = []
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
                if not is_e164(phone):
                    reasons.append(f"phone {phone!r} is not an E.164 number like +14155550100")
                elif phone in first_seen:
                    reasons.append(f"phone {phone} is already on line {first_seen[phone]}")
                if segment not in SEGMENT_LISTS:
                    reasons.append(f"segment {segment!r} is not one of {', '.join(SEGMENT_LISTS)}")
                if not first_name:
                    reasons.append("first_name is empty")
                if reasons:
                    problems.append(f"line {reader.line_num}: {'; '.join(reasons)}")
                else:
                    first_seen[phone] = reader.line_num
                    segments[segment].append(phone)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ContactFileError(f"cannot read the contact file {path}: {error}") from error
    return {segment: phones for segment, phones in segments.items() if phones}, problems


def campaign_requests(segments: dict[str, list[str]], stamp: str) -> list[dict[str, Any]]:
    """The create arguments of one campaign per segment; ``stamp`` makes the names unique per run."""
    return [
        {
            "name": f"Season offer {segment} {stamp}",
            "description": f"Season offer to the {len(phones)} {segment} contacts of the contact file.",
            "contact_lists": [SEGMENT_LISTS[segment]],
        }
        for segment, phones in segments.items()
    ]


with DAG(
    dag_id="kore_campaign_segments",
    description="One Kore.ai SMS campaign per segment of a contact file, sent and waited on.",
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
        "max_invalid_rows": Param(
            5,
            type="integer",
            minimum=0,
            description="Fail before sending anything when more rows than this are rejected.",
        ),
    },
    tags=["kore", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def plan_campaigns(**context: Any) -> list[dict[str, Any]]:
        """Check and split the contact file; the create arguments of one campaign per segment."""
        params, dag_run = context["params"], context["dag_run"]
        path = Path(__file__).parent / params["contacts_file"]
        try:
            segments, problems = read_segments(path)
        except ContactFileError as error:
            raise AirflowFailException(str(error)) from error
        for problem in problems:
            log.warning("%s rejected, %s", path.name, problem)
        if len(problems) > params["max_invalid_rows"]:
            raise AirflowFailException(
                f"{path.name}: {len(problems)} rows rejected, more than max_invalid_rows="
                f"{params['max_invalid_rows']}; nothing was sent. Fix the file:\n" + "\n".join(problems)
            )
        if not segments:
            raise AirflowFailException(f"{path.name}: no valid row, so no campaign to send.")
        for segment, phones in segments.items():
            log.info(
                "Segment %s: %d contacts, Kore.ai list %r.", segment, len(phones), SEGMENT_LISTS[segment]
            )
        return campaign_requests(segments, dag_run.run_after.strftime("%Y%m%dT%H%M%S"))

    @task(outlets=[CAMPAIGNS_FINISHED])
    def publish_finished(campaign_ids: Iterable[str], **context: Any) -> list[str]:
        """Name the completed campaigns on the asset, for whoever cleans them up."""
        finished = list(campaign_ids)
        context["outlet_events"][CAMPAIGNS_FINISHED].extra = {"campaign_ids": finished}
        log.info("Published %d completed campaigns: %s", len(finished), ", ".join(finished))
        return finished

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
    ).expand_kwargs(plan_campaigns())
    start = StartCampaignOperator.partial(task_id="start_campaign").expand(campaign_id=create.output)
    wait = CampaignStatusSensor.partial(
        task_id="wait_for_completion",
        target_statuses=("Completed",),
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=timedelta(hours=12),
    ).expand(campaign_id=create.output)

    start >> wait >> publish_finished(create.output)
