"""The contact-list operators against the sandbox: sources, bad input before any call, retries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow.sdk import ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from airflow_campaign_provider.api import ApiRequest, transport_error
from airflow_campaign_provider.exceptions import (
    ContactFileError,
    ContactListConflictError,
    ContactListInUseError,
    ContactUploadError,
    InvalidCampaignArgumentError,
    InvalidContactsError,
)
from airflow_campaign_provider.operators.contact_list import (
    CreateContactListOperator,
    DeleteContactListOperator,
    UploadContactsOperator,
)
from airflow_campaign_provider.sandbox import SandboxServer

PHONES = [f"+1415555{n:04d}" for n in range(2000, 2012)]
FAST = {"poll_interval": 0.02, "import_timeout": 10.0}


def new_list(name: str = "Operators", description: str = "A list", **kwargs: Any) -> str:
    operator = CreateContactListOperator(task_id="create", name=name, description=description, **kwargs)
    return str(operator.execute({}))


def upload(list_id: str, contacts: Any, **kwargs: Any) -> UploadContactsOperator:
    return UploadContactsOperator(
        task_id="upload", contact_list_id=list_id, contacts=contacts, **{**FAST, **kwargs}
    )


def held(sandbox: SandboxServer, name: str) -> list[str]:
    return list(sandbox.admin.resources()["contact_lists"][name])


def kore_calls(sandbox: SandboxServer) -> list[str]:
    return [f"{r['method']} {r['path'].rsplit('/', 1)[-1]}" for r in sandbox.admin.requests()]


def test_create_returns_the_id_and_a_rerun_reuses_the_list(kore_sandbox: SandboxServer) -> None:
    first = new_list(description="Gold")
    second = new_list(description="Gold")

    assert first == second
    assert first.startswith("cl-")
    with pytest.raises(AirflowFailException) as raised:
        new_list(description="Silver")
    assert isinstance(raised.value.__cause__, ContactListConflictError)


def test_create_refuses_a_long_name_when_the_dag_is_parsed_but_waits_for_templates() -> None:
    with pytest.raises(InvalidCampaignArgumentError, match=r"- name: must be at most 48 characters, got 49"):
        CreateContactListOperator(task_id="create", name="x" * 49, description="A list")
    with pytest.raises(InvalidCampaignArgumentError, match=r"- description: must be at most 256 characters"):
        CreateContactListOperator(task_id="create", name="ok", description="d" * 257)
    with pytest.raises(InvalidCampaignArgumentError, match=r"- description: must not be blank"):
        CreateContactListOperator(task_id="create", name="ok", description=" ")

    CreateContactListOperator(task_id="create", name="Gold {{ ds }}", description="A list")


def test_upload_from_a_python_list_returns_the_counts(kore_sandbox: SandboxServer) -> None:
    list_id = new_list()

    counts = upload(list_id, [*PHONES, " +14155550999 ", PHONES[0]]).execute({})

    assert counts["sent"] == 13
    assert counts["repeated_in_input"] == 1
    assert (counts["already_present"], counts["rejected"], counts["total_in_list"]) == (0, 0, 13)
    assert held(kore_sandbox, "Operators") == [*PHONES, "+14155550999"]


def test_upload_from_mappings_as_an_xcom_holds_them(kore_sandbox: SandboxServer) -> None:
    list_id = new_list()

    counts = upload(list_id, [{"msisdn": p} for p in PHONES[:3]], phone_column="msisdn").execute({})

    assert counts["sent"] == 3


def write_csv(path: Path, phones: list[str]) -> Path:
    path.write_text("first_name,phone\n" + "".join(f"n{i},{p}\n" for i, p in enumerate(phones)))
    return path


def test_upload_from_csv_jsonl_and_parquet_files(kore_sandbox: SandboxServer, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_file = write_csv(tmp_path / "a.csv", PHONES[:4])
    jsonl_file = tmp_path / "b.jsonl"
    jsonl_file.write_text("".join(json.dumps({"phone": p}) + "\n" for p in PHONES[4:8]))
    parquet_file = tmp_path / "c.parquet"
    pq.write_table(pa.table({"phone": PHONES[8:]}), parquet_file)
    list_id = new_list()

    sent = [
        upload(list_id, source).execute({})["sent"]
        for source in (str(csv_file), ObjectStoragePath(f"file://{jsonl_file}"), parquet_file)
    ]

    assert sent == [4, 4, 4]
    assert held(kore_sandbox, "Operators") == PHONES


def test_bad_rows_are_reported_by_line_and_too_many_fail_before_any_call(
    kore_sandbox: SandboxServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    list_id = new_list()
    kore_sandbox.admin.clear_requests()
    contacts = write_csv(tmp_path / "bad.csv", [PHONES[0], "415-555-0100", "", PHONES[1], "+0123"])

    with pytest.raises(AirflowFailException) as raised:
        upload(list_id, str(contacts), max_invalid_rows=2).execute({})

    assert isinstance(raised.value.__cause__, InvalidContactsError)
    message = str(raised.value)
    assert "3 contacts rejected, more than max_invalid_rows=2; nothing was sent" in message
    assert "line 3: phone '415-555-0100' is not a phone number in international format" in message
    assert "a national number needs default_region" in message
    assert "line 4: phone is empty" in message
    assert "line 6: phone '+0123' is not a phone number" in message
    assert kore_calls(kore_sandbox) == []

    counts = upload(list_id, str(contacts), max_invalid_rows=3).execute({})

    assert (counts["sent"], counts["rejected"]) == (2, 3)


@pytest.mark.parametrize(
    ("contacts", "match"),
    [
        ("missing.csv", r"contacts: file .*missing.csv does not exist"),
        ("no_phone.csv", r"phone_column: .*no_phone.csv has no column 'phone'; its header is msisdn, name"),
        ("contacts.txt", r"file_format: contacts.txt needs one of csv, jsonl, parquet"),
        ("latin1.csv", r"contacts: cannot read .*latin1.csv"),
    ],
)
def test_a_file_that_cannot_be_read_fails_naming_the_problem_before_any_call(
    kore_sandbox: SandboxServer, tmp_path: Path, contacts: str, match: str
) -> None:
    (tmp_path / "no_phone.csv").write_text("msisdn,name\n+14155550101,Ada\n")
    (tmp_path / "contacts.txt").write_text("+14155550101\n")
    (tmp_path / "latin1.csv").write_bytes("phone,name\n+14155550101,Jos\xe9\n".encode("latin-1"))

    with pytest.raises(AirflowFailException, match=match) as raised:
        upload("cl-not-needed", str(tmp_path / contacts)).execute({})

    assert isinstance(raised.value.__cause__, ContactFileError)
    assert kore_calls(kore_sandbox) == []


def test_a_retry_of_a_failed_upload_task_adds_nobody_twice(
    kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_id = new_list()
    first = upload(list_id, PHONES, batch_size=5)
    real_send = first.hook._send
    adds = []

    def send(request: ApiRequest) -> requests.Response:
        if request.path.endswith("/addContacts"):
            adds.append(request)
            if len(adds) == 2:  # Kore acts on the second batch, its answer is lost, then the worker dies
                real_send(request)
                raise transport_error(request, requests.ReadTimeout("lost"), sent=True)
            if len(adds) == 3:
                raise ContactUploadError("worker lost", sent=5, already_present=0)
        return real_send(request)

    monkeypatch.setattr(first.hook, "_send", send)
    with pytest.raises(ContactUploadError):
        first.execute({})

    counts = upload(list_id, PHONES, batch_size=5).execute({})

    assert held(kore_sandbox, "Operators") == PHONES
    assert counts["total_in_list"] == len(PHONES)
    assert counts["sent"] + counts["already_present"] == len(PHONES)


def test_delete_with_missing_ok_and_a_list_in_use(kore_sandbox: SandboxServer) -> None:
    list_id = new_list("Delete me")
    campaign_id = kore_sandbox.admin.seed_campaign(
        "Active", complete_in_seconds=600, fields={"name": "Uses it", "contactLists": ["Delete me"]}
    )

    with pytest.raises(ContactListInUseError, match=campaign_id):
        DeleteContactListOperator(task_id="delete", contact_list_id=list_id).execute({})
    deleted = DeleteContactListOperator(
        task_id="delete", contact_list_id=list_id, stop_running_campaigns=True
    ).execute({})
    again = DeleteContactListOperator(task_id="delete", contact_list_id=list_id, missing_ok=True).execute({})

    assert (deleted, again) == (list_id, None)
    assert "Delete me" not in kore_sandbox.admin.resources()["contact_lists"]


@pytest.mark.parametrize(
    ("argument", "value"), [("batch_size", 0), ("max_invalid_rows", -1), ("poll_interval", "often")]
)
def test_upload_settings_are_checked_when_the_dag_is_parsed(argument: str, value: Any) -> None:
    with pytest.raises(InvalidCampaignArgumentError, match=rf"^{argument}: must be a number"):
        UploadContactsOperator(task_id="u", contact_list_id="cl-1", contacts=[], **{argument: value})
