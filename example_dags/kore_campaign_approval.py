"""An SMS campaign a person approves before anyone is texted; rejected, it is deleted.

Use this when a campaign must not go out until someone has read what it will send: the audience
is uploaded and the campaign created as usual, then Airflow's Human-in-the-loop
``ApprovalOperator`` (the standard provider's) asks a reviewer, in the UI's "Required actions"
or through the REST API, to approve or reject it, showing:

- the campaign's name and its sender (the caller id Kore texts from);
- the number of contacts on its contact lists. Kore's API cannot read a Do-Not-Call list, so
  the review says which DNC list the campaign has: Kore leaves those numbers out when it sends,
  and the count is the most that can be texted;
- the message, word for word, as Kore holds it.

1. ``create_contact_list`` makes this run's list; ``upload_contacts`` fills it from
   ``data/contacts.csv`` (the data team's file) and waits until Kore holds every number.
2. ``create_campaign`` makes the campaign (plain text, no template) for that list.
3. ``summarize_for_review`` reads the campaign and its lists back from Kore: the review shows
   what Kore will send, not what the DAG meant to send.
4. ``approve_campaign`` waits for the answer (24 hours; no answer counts as Reject).
5. Approved: ``start_campaign`` plays it. Rejected: the approval skips ``start_campaign``, and
   ``delete_rejected_campaign``, which runs only when the start was skipped, deletes the
   campaign. Nobody is texted. The contact list stays, for a corrected campaign.

Human-in-the-loop tasks need Airflow 3.1 or later and a standard provider that has them; where
``airflow.providers.standard.operators.hitl`` is missing this file defines no DAG (it still
parses), since a campaign that needs an approval must never be sent without one.

Connection: ``kore_campaign_default``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_campaign_provider.operators.campaign import DeleteCampaignOperator, StartCampaignOperator
from airflow_campaign_provider.operators.contact_list import CreateContactListOperator, UploadContactsOperator
from airflow_campaign_provider.operators.sms_text import CreateSmsTextCampaignOperator

try:
    from airflow.providers.standard.operators.hitl import ApprovalOperator
except ImportError:  # a standard provider without Human-in-the-loop (Airflow < 3.1 raises this too)
    ApprovalOperator = None

#: Seconds between two reads of the list's count or the campaign's status; the tests set 1.
POLL_SECONDS = float(os.environ.get("KORE_EXAMPLE_POLL_SECONDS", "30"))
CONTACTS_FILE = Path(__file__).parent / "data" / "contacts.csv"
MESSAGE = "Acme spring sale: 20% off everything until Sunday. Reply STOP to opt out."
SENDER = "+14155550100"
DNC_LIST = "Do not text"
#: How long the reviewer has; then the default answer, Reject, deletes the campaign.
REVIEW_WINDOW = timedelta(hours=24)
#: Names carry the run's time to the microsecond: two runs triggered in one second get two campaigns.
STAMP = "{{ dag_run.run_after.strftime('%Y%m%dT%H%M%S%f') }}"


def review_text(campaign: dict[str, Any], lists: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The subject and Markdown body a reviewer reads, from the campaign and its lists as Kore
    answers them (``lists``: every contact list of the account by lower-case name)."""
    from airflow_campaign_provider.models.common import decode_message

    names = list(campaign.get("contactLists") or ())
    counts = {name: int((lists.get(name.lower()) or {}).get("totalRecordCount") or 0) for name in names}
    contacts = sum(counts.values())
    encoded = (campaign.get("message") or {}).get("message") or ""
    message = decode_message(encoded) or encoded
    sender = ((campaign.get("dialingStrategy") or {}).get("callerId") or {}).get("phoneNumber")
    dnc = (campaign.get("dncLists") or {}).get("name")
    on_lists = ", ".join(f"{counts[name]} on {name!r}" for name in names)
    if dnc:
        reach = (
            f"at most **{contacts}** ({on_lists}); numbers on the Do-Not-Call list {dnc!r} are "
            "left out by Kore when it sends (Kore's API cannot read a DNC list, so they are "
            "counted here)"
        )
    else:
        reach = f"**{contacts}** ({on_lists}); the campaign has no Do-Not-Call list"
    quoted = "\n".join(f"> {line}" for line in message.splitlines() or [""])
    body = (
        f"**Campaign:** {campaign['name']} (`{campaign['_id']}`)\n\n"
        f"**Sender (caller id):** {sender}\n\n"
        f"**Contacts to be texted:** {reach}\n\n"
        f"**Message:**\n\n{quoted}\n\n"
        f"Approve starts the campaign now. Reject deletes it and texts nobody; no answer within "
        f"{REVIEW_WINDOW / timedelta(hours=1):g} hours counts as Reject."
    )
    return {
        "subject": f"Text up to {contacts} contacts with campaign {campaign['name']}?",
        "body": body,
        "contacts": contacts,
    }


if ApprovalOperator is not None:
    with DAG(
        dag_id="kore_campaign_approval",
        description="A Kore.ai SMS campaign sent only once a person approves it; deleted if rejected.",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 6, tz="UTC"),
        catchup=False,
        default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
        tags=["kore", "example"],
        doc_md=__doc__,
    ) as dag:

        @task(multiple_outputs=True)
        def summarize_for_review(campaign_id: str) -> dict[str, Any]:
            """What the reviewer is shown, read back from Kore: one campaign read, one list read."""
            from airflow_campaign_provider.hooks.campaign import CampaignHook

            hook = CampaignHook()
            campaign = hook.get_campaign(campaign_id)
            lists = {str(cl.get("name", "")).lower(): cl for cl in hook.iter_contact_lists()}
            return review_text(campaign, lists)

        create_list = CreateContactListOperator(
            task_id="create_contact_list",
            name=f"Spring sale {STAMP}",
            description="The data team's contacts for the spring sale.",
        )
        upload = UploadContactsOperator(
            task_id="upload_contacts",
            contact_list_id=create_list.output,
            contacts=str(CONTACTS_FILE),
            default_region="US",  # the file writes some numbers without a country code
            max_invalid_rows=1,  # the file has one malformed number on purpose
            poll_interval=POLL_SECONDS,
        )
        create = CreateSmsTextCampaignOperator(
            task_id="create_campaign",
            name=f"Spring sale {STAMP}",
            description="Spring sale SMS, sent once a person approves it (Airflow run {{ run_id }}).",
            contact_lists=[f"Spring sale {STAMP}"],
            message=MESSAGE,
            caller_id=SENDER,
            calling_hours={
                "frequency": "DAILY",
                "timezone": "America/New_York",
                "days": [
                    {"day": day, "start": "9:00 AM", "end": "8:00 PM"}
                    for day in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
                ],
            },
            dnc_list=DNC_LIST,
            poll_interval=POLL_SECONDS,
        )
        review = summarize_for_review(create.output)
        approve = ApprovalOperator(
            task_id="approve_campaign",
            subject=review["subject"],
            body=review["body"],
            defaults="Reject",
            response_timeout=REVIEW_WINDOW,
        )
        start = StartCampaignOperator(task_id="start_campaign", campaign_id=create.output)
        # A template, not create.output: an XCom argument would make create an upstream, and
        # "all upstreams skipped" would then never hold.
        delete_rejected = DeleteCampaignOperator(
            task_id="delete_rejected_campaign",
            campaign_id="{{ ti.xcom_pull(task_ids='create_campaign') }}",
            trigger_rule="all_skipped",
        )

        create_list >> upload >> create
        review >> approve >> start >> delete_rejected
