"""Issue 19: the contact-list pipeline against a sandbox that answers as Kore's samples do.

Each test reproduces one defect found against Kore's documented answers, through the public
hook and operators: numbers written without ``+``, a 5xx after Kore took a batch, numbers as
people write them, schedules keyed by a shared name, ``campaignInUse`` as objects, the budget
store's password, and two threads on one hook.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_campaign_provider._compat import AirflowFailException
from airflow_campaign_provider.exceptions import (
    CampaignConnectionConfigError,
    CampaignStateError,
    ContactListInUseError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.contact_list import (
    DeleteContactListOperator,
    UploadContactsOperator,
)
from airflow_campaign_provider.sandbox import SandboxServer

PHONES = [f"+1415555{n:04d}" for n in range(3000, 3020)]


def phone_key(phone: str) -> str:
    """One number however the sandbox writes it (Kore's samples drop the ``+``)."""
    return "+" + str(phone).lstrip("+")


FAST = {"poll_interval": 0.02, "count_timeout": 5.0, "settle_seconds": 0.3}


@pytest.fixture
def hook(kore_sandbox: SandboxServer) -> Iterator[CampaignHook]:
    campaign_hook = CampaignHook()
    yield campaign_hook
    campaign_hook.close()


def numbers_added(sandbox: SandboxServer) -> Counter[str]:
    """How often each number was sent in an addContacts call, by value."""
    added: Counter[str] = Counter()
    for request in sandbox.admin.requests():
        if request["path"].endswith("/addContacts") and isinstance(request.get("body"), dict):
            added.update(phone_key(c["phoneNumber"]) for c in request["body"]["data"])
    return added


def held(hook: CampaignHook, list_id: str) -> Counter[str]:
    return Counter(phone_key(c["phoneNumber"]) for c in hook.iter_contacts(list_id))


def context(try_number: int) -> Any:
    return {"ti": SimpleNamespace(try_number=try_number)}


# --- item 1 ------------------------------------------------------------------------------------


def test_a_second_upload_finds_the_numbers_kore_writes_without_plus_and_sends_none(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    contact_list, _ = hook.create_contact_list_once("Uploaded twice", "A list")
    hook.upload_contacts_once(contact_list["_id"], PHONES, poll_interval=0.02, count_timeout=5)
    shown = [c["phoneNumber"] for c in hook.iter_contacts(contact_list["_id"])]
    assert shown == [p.lstrip("+") for p in PHONES]  # as Kore's getAllContacts sample writes them

    again = hook.upload_contacts_once(contact_list["_id"], PHONES, poll_interval=0.02, count_timeout=5)

    assert (again.sent, again.already_present, again.add_calls) == (0, 20, 0)
    assert set(numbers_added(kore_sandbox).values()) == {1}
    assert set(held(hook, contact_list["_id"]).values()) == {1}


# --- item 2 ------------------------------------------------------------------------------------


def test_a_500_after_kore_took_the_batch_is_settled_on_the_same_try_not_sent_again(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    kore_sandbox.admin.update_config(add_contacts_fail_after_accept=1, contact_import_seconds=0.3)
    contact_list, _ = hook.create_contact_list_once("Took it", "A list", allow_duplicates=True)

    report = hook.upload_contacts_once(contact_list["_id"], PHONES, batch_size=10, **FAST)

    assert (report.sent, report.settled, report.total_in_list) == (20, 1, 20)
    assert set(numbers_added(kore_sandbox).values()) == {1}
    assert set(held(hook, contact_list["_id"]).values()) == {1}


def test_a_task_retry_after_kore_took_the_batch_waits_for_it_before_reading_the_list(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    # The import takes longer than the first try waits: it fails, and Kore lands the batch later.
    kore_sandbox.admin.update_config(add_contacts_fail_after_accept=1, contact_import_seconds=1.0)
    contact_list, _ = hook.create_contact_list_once("Retried upload", "A list", allow_duplicates=True)
    upload = UploadContactsOperator(
        task_id="upload",
        contact_list_id=contact_list["_id"],
        contacts=PHONES,
        import_timeout=0.3,
        poll_interval=0.05,
        settle_seconds=1.5,
    )
    with pytest.raises(Exception, match="stopped after sending 0 contacts"):
        upload.execute(context(1))

    report = upload.execute(context(2))

    assert (report["sent"], report["already_present"], report["total_in_list"]) == (0, 20, 20)
    assert set(numbers_added(kore_sandbox).values()) == {1}
    assert set(held(hook, contact_list["_id"]).values()) == {1}


# --- item 3 ------------------------------------------------------------------------------------


def test_numbers_as_people_write_them_are_sent_as_e164_and_bad_rows_named_by_line(
    hook: CampaignHook, kore_sandbox: SandboxServer, tmp_path: Path
) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "phone\n+1 415 555 0304\n+1-415-555-0305\n+1 (415) 555-0306\n(415) 555-0307\n"
        "14155550308\nnot a number\n+1 415 555 0304\n"
    )
    contact_list, _ = hook.create_contact_list_once("Written by people", "A list")

    report = UploadContactsOperator(
        task_id="upload",
        contact_list_id=contact_list["_id"],
        contacts=str(contacts),
        default_region="US",
        max_invalid_rows=1,
        poll_interval=0.02,
    ).execute(context(1))

    sent = [
        c["phoneNumber"]
        for r in kore_sandbox.admin.requests()
        if r["path"].endswith("/addContacts")
        for c in r["body"]["data"]
    ]
    assert sent == [f"+1415555030{n}" for n in range(4, 9)]
    assert (report["sent"], report["rejected"], report["repeated_in_input"]) == (5, 1, 1)

    with pytest.raises(AirflowFailException, match=r"line 7: phone 'not a number' is not a phone number"):
        UploadContactsOperator(
            task_id="upload", contact_list_id=contact_list["_id"], contacts=str(contacts)
        ).execute(context(1))


def test_a_bad_default_region_is_refused_naming_the_rule() -> None:
    with pytest.raises(InvalidCampaignArgumentError, match="default_region: must be an ISO 3166 region"):
        UploadContactsOperator(task_id="upload", contact_list_id="cl-1", contacts=[], default_region="USA")


# --- item 5 ------------------------------------------------------------------------------------


def two_of_one_name(sandbox: SandboxServer) -> tuple[str, str]:
    sandbox.admin.update_config(refuse_taken_names=False)
    old = sandbox.admin.seed_campaign("Completed", fields={"name": "Weekly promo"})
    new = sandbox.admin.seed_campaign("Ready", fields={"name": "Weekly promo"})
    return old, new


def test_a_schedule_by_a_name_two_campaigns_share_is_refused_naming_both(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    old, new = two_of_one_name(kore_sandbox)
    kore_sandbox.admin.clear_requests()

    with pytest.raises(InvalidCampaignArgumentError, match="2 sms campaigns are named") as raised:
        hook.enable_campaign_schedule("Weekly promo", start="2099-01-01 09:00:00", end="2099-02-01 09:00:00")
    with pytest.raises(InvalidCampaignArgumentError, match="2 sms campaigns are named"):
        hook.disable_campaign_schedule("Weekly promo")
    with pytest.raises(InvalidCampaignArgumentError, match="cannot be told which one"):
        hook.disable_campaign_schedule("Weekly promo", campaign_id=new)

    assert old in str(raised.value)
    assert new in str(raised.value)
    assert not [r for r in kore_sandbox.admin.requests() if r["path"].endswith("/schedule")]


def test_a_schedule_answer_naming_another_campaign_is_an_error(
    hook: CampaignHook, kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign("Ready", fields={"name": "Alone"})
    real = hook.set_campaign_schedule
    monkeypatch.setattr(
        hook, "set_campaign_schedule", lambda name, body: {**real(name, body), "id": "cd-other"}
    )

    with pytest.raises(CampaignStateError, match=f"campaign cd-other, not of {campaign_id}"):
        hook.enable_campaign_schedule(
            "Alone", start="2099-01-01 09:00:00", end="2099-02-01 09:00:00", campaign_id=campaign_id
        )


# --- item 6 ------------------------------------------------------------------------------------


def test_a_list_a_running_voice_campaign_uses_is_deleted_after_stopping_it(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    kore_sandbox.admin.update_config(campaign_in_use_format="objects")
    contact_list, _ = hook.create_contact_list_once("Voice audience", "A list")
    voice_id = kore_sandbox.admin.seed_campaign(
        "Active",
        campaign_type="voice",
        complete_in_seconds=600,
        fields={"name": "Calls it", "contactLists": ["Voice audience"]},
    )
    in_use = hook.get_contact_list(contact_list["_id"])["campaignInUse"]
    assert in_use == [{"name": "Calls it", "id": voice_id}]  # Kore's sample shape

    with pytest.raises(ContactListInUseError, match=f"{voice_id} \\(voice\\)"):
        DeleteContactListOperator(task_id="delete", contact_list_id=contact_list["_id"]).execute(context(1))
    deleted = DeleteContactListOperator(
        task_id="delete", contact_list_id=contact_list["_id"], stop_running_campaigns=True
    ).execute(context(1))

    assert deleted == contact_list["_id"]
    assert hook.get_campaign_status(voice_id) == "Stopped"


def test_campaign_in_use_as_plain_ids_is_read_too(hook: CampaignHook, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.update_config(campaign_in_use_format="ids")
    contact_list, _ = hook.create_contact_list_once("Ids audience", "A list")
    sms_id = kore_sandbox.admin.seed_campaign(
        "Active", complete_in_seconds=600, fields={"name": "Texts it", "contactLists": ["Ids audience"]}
    )
    assert hook.get_contact_list(contact_list["_id"])["campaignInUse"] == [sms_id]

    with pytest.raises(ContactListInUseError, match=f"{sms_id} \\(sms\\)"):
        hook.delete_contact_list_once(contact_list["_id"])


# --- item 7 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "redis://:hunter2@127.0.0.1:1/0",
        "redis://user:hunter2@127.0.0.1:1/0",
        "redis://127.0.0.1:1/0?password=hunter2",
    ],
)
def test_the_budget_store_password_stays_out_of_the_fallback_warning_and_repr(
    url: str, hook: CampaignHook, kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    connection = {**kore_sandbox.connection()}
    connection["extra"] = {**connection["extra"], "budget_store_url": url}
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", json.dumps(connection))
    fresh = CampaignHook()
    with caplog.at_level(logging.WARNING):
        list(fresh.iter_contact_lists())  # the store does not answer: the budget falls back
    fresh.close()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "did not answer" in logged
    assert "hunter2" not in logged
    assert "***" in logged
    assert "hunter2" not in repr(fresh.budget.settings)
    assert "hunter2" not in repr(fresh.settings)


def test_a_malformed_store_url_is_refused_without_its_password(
    kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = {**kore_sandbox.connection()}
    connection["extra"] = {**connection["extra"], "budget_store_url": "redis:/:hunter2@host"}
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", json.dumps(connection))

    with pytest.raises(CampaignConnectionConfigError) as raised:
        CampaignHook().settings  # noqa: B018

    assert "budget_store_url" in str(raised.value)
    assert "hunter2" not in str(raised.value)


# --- item 10 -----------------------------------------------------------------------------------


def test_two_threads_on_one_hook_at_one_request_a_minute_both_get_their_answer(
    kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = {**kore_sandbox.connection()}
    connection["extra"] = {**connection["extra"], "requests_per_minute": 1}
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", json.dumps(connection))
    kore_sandbox.admin.set_faults(latency_seconds=0.3)  # the first call is in flight when the second starts
    shared = CampaignHook()
    answers: list[Any] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            answers.append(list(shared.iter_contact_lists()))
        except BaseException as error:  # what a thread died of is the finding
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    shared.close()

    assert errors == []
    assert len(answers) == 2
