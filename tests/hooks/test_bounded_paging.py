"""Issue 19 items 4 and 8: every paged read ends, whatever the pages say; results CSV cells never run.

The server here answers the same page for ever (``hasMore: true``, ``totalPages`` 10⁹ or missing):
each read must end on the first page that adds nothing new, write no row twice, and fail at its
page cap when a server keeps inventing rows.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
import responses

from airflow_campaign_provider.exceptions import CampaignResponseError
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.results import ExportCampaignResultsOperator
from airflow_campaign_provider.paging import Page, pages
from tests.hooks.conftest import BASE

LIST_ID = "cl-718e888-3aca-4008-973e-6d79940aaaaa"
CAMPAIGN_ID = "cd-a1e45a7-e8ba-4e97-a339-476ebc7aaaaa"


def contacts_page(count: int = 3, start: int = 0) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "results": [
                {"_id": f"cc-{n}", "phoneNumber": f"9122333{n:05d}", "createdAt": "", "updatedAt": ""}
                for n in range(start, start + count)
            ],
            "skip": 0,
            "limit": 50,
            "hasMore": True,
        },
    }


def results_page(total_pages: int | None, rows: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {"results": rows, "page": 1, "limit": 100, "totalResults": 10**9}
    if total_pages is not None:
        data["totalPages"] = total_pages
    return {"status": "success", "data": data}


def row(phone: str, **fields: Any) -> dict[str, Any]:
    return {
        "phoneNumber": phone,
        "uniqueId": "",
        "dialerOutcome": "completed",
        "numberOfAttemptsSoFar": 1,
        "botSessionId": "",
        "agentDispositionCodes": [],
        "botOutboundStatus": "userHangUp",
        "botOutboundStatusDetail": "user_hangup",
        **fields,
    }


def calls_to(mocked: responses.RequestsMock, pattern: str) -> int:
    return sum(1 for call in mocked.calls if re.search(pattern, call.request.url or ""))


def test_contacts_answered_has_more_for_ever_end_on_the_repeated_page(
    hook: CampaignHook, mocked: responses.RequestsMock
) -> None:
    mocked.get(re.compile(rf"{re.escape(BASE)}/contactList/{LIST_ID}/getAllContacts.*"), json=contacts_page())

    contacts = list(hook.iter_contacts(LIST_ID))

    assert [c["_id"] for c in contacts] == ["cc-0", "cc-1", "cc-2"]
    assert calls_to(mocked, "getAllContacts") == 2


@pytest.mark.parametrize("total_pages", [10**9, None], ids=["totalPages-1e9", "no-totalPages"])
def test_an_export_of_repeating_pages_writes_each_row_once_and_ends(
    total_pages: int | None,
    kore_connection: None,
    mocked: responses.RequestsMock,
    tmp_path: Path,
    sleeps: list[float],
) -> None:
    rows = [row(f"9198765{n:05d}") for n in range(100)]
    mocked.post(
        re.compile(rf"{re.escape(BASE)}/{CAMPAIGN_ID}/status.*"), json=results_page(total_pages, rows)
    )
    target = tmp_path / "results.csv"

    summary = ExportCampaignResultsOperator(
        task_id="export", campaign_id=CAMPAIGN_ID, campaign_type="voice", path=str(target)
    ).execute({})

    with target.open(newline="") as handle:
        written = list(csv.DictReader(handle))
    assert summary["rows"] == len(written) == 100
    assert calls_to(mocked, "/status") == 2


def test_a_campaign_list_answering_the_same_page_ends(
    hook: CampaignHook, mocked: responses.RequestsMock
) -> None:
    page = {
        "status": "success",
        "data": {"results": [{"id": "cd-1", "name": "A"}], "hasMore": True, "totalPages": 10**9},
    }
    mocked.post(f"{BASE}/getAllCampaignDetails", json=page)

    assert [c["id"] for c in hook.iter_campaigns()] == ["cd-1"]
    assert calls_to(mocked, "getAllCampaignDetails") == 2


def test_a_read_that_keeps_inventing_rows_fails_at_its_page_cap() -> None:
    fetched: list[int] = []

    def fetch(index: int, read: int) -> Page:
        fetched.append(index)
        return Page([{"_id": f"cc-{read + n}"} for n in range(2)], has_more=True)

    with pytest.raises(CampaignResponseError, match="did not end within 5 pages"):
        list(pages(fetch, what="the contacts", page_size=2, max_pages=5, method="GET", path="/x"))
    assert fetched == [0, 1, 2, 3, 4]


def test_results_csv_cells_starting_like_a_formula_are_neutralised(
    kore_connection: None, mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    hostile = [
        row("919876543210", botOutboundStatusDetail='=HYPERLINK("http://evil.example","click")'),
        row("919876543211", uniqueId="@SUM(A1:A9)", botSessionId="-2+3", botOutboundStatus="+cmd"),
        row("919876543212", botOutboundStatusDetail="\tTab", agentDispositionCodes=["=1+1"]),
        row("919876543213", botOutboundStatusDetail="\rCR"),
    ]
    mocked.post(re.compile(rf"{re.escape(BASE)}/{CAMPAIGN_ID}/status.*"), json=results_page(1, hostile))
    target = tmp_path / "results.csv"

    ExportCampaignResultsOperator(
        task_id="export", campaign_id=CAMPAIGN_ID, campaign_type="voice", path=str(target)
    ).execute({})

    with target.open(newline="") as handle:
        cells = [value for line in csv.DictReader(handle) for value in line.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert '\'=HYPERLINK("http://evil.example","click")' in cells
    assert "'" + json.dumps(["=1+1"]) not in cells  # a JSON list starts with "[": left as it is
    assert {"'@SUM(A1:A9)", "'-2+3", "'+cmd", "'\tTab", "'\rCR"} <= set(cells)
