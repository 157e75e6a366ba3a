"""The list's documented sort and date filter, taken names, and a server that ignores the sort."""

from __future__ import annotations

from typing import Any

from airflow_campaign_provider.sandbox import SandboxServer
from tests.sandbox.testkit import KoreClient

STAMPS = ["2025-12-01T08:00:00.000Z", "2025-12-03T08:00:00.000Z", "2025-12-05T08:00:00.000Z"]


def seed_dated(sandbox: SandboxServer) -> list[str]:
    """Three campaigns, created on the 1st, the 3rd and the 5th (seeded in that order)."""
    return sandbox.admin.seed_campaigns(
        [{"fields": {"name": f"Dated {i}", "createdAt": stamp}} for i, stamp in enumerate(STAMPS)]
    )


def listed_ids(kore: KoreClient, body: dict[str, Any]) -> list[str]:
    answer = kore.list({"type": "sms", "limit": 10, **body})
    assert answer.status_code == 200, answer.text
    return [campaign["_id"] for campaign in answer.json()["data"]["results"]]


def test_sort_by_created_at_as_documented_and_the_date_filter_bounds_created_at(
    kore_sandbox: SandboxServer, kore: KoreClient
) -> None:
    first, second, third = seed_dated(kore_sandbox)

    assert listed_ids(kore, {"sortBy": {"createdAt": "desc"}}) == [third, second, first]
    assert listed_ids(kore, {"sortBy": {"createdAt": "asc"}}) == [first, second, third]
    window = {"startDate": "2025-12-02T00:00:00.000Z", "endDate": "2025-12-04T00:00:00.000Z"}
    assert listed_ids(kore, window) == [second]
    assert listed_ids(kore, {"startDate": "2025-12-03T08:00:00.000Z"}) == [third, second]


def test_a_date_that_is_not_an_iso_timestamp_is_refused_naming_it(kore: KoreClient) -> None:
    answer = kore.list({"type": "sms", "startDate": "yesterday", "endDate": "2025-12-04"})

    assert answer.status_code == 412
    assert "startDate" in answer.text
    assert "endDate" in answer.text


def test_the_unsorted_fault_ignores_sort_and_dates_and_lists_oldest_first(
    kore_sandbox: SandboxServer, kore: KoreClient
) -> None:
    ids = seed_dated(kore_sandbox)
    kore_sandbox.admin.set_faults(list_pages="unsorted")

    body = {"sortBy": {"createdAt": "desc"}, "startDate": "2025-12-04T00:00:00.000Z"}
    assert listed_ids(kore, body) == ids


def test_taken_names_are_refused_unless_switched_off(
    kore_sandbox: SandboxServer, kore: KoreClient, sample_body: dict[str, Any]
) -> None:
    kore.create_ok(sample_body)
    refused = kore.create(sample_body)
    assert refused.status_code == 412
    assert "already exists" in refused.text

    kore_sandbox.admin.update_config(refuse_taken_names=False)
    twin = kore.create_ok(sample_body)
    named = [c for c in kore_sandbox.admin.campaigns()["campaigns"] if c["name"] == sample_body["name"]]
    assert len(named) == 2
    kore.delete(twin["_id"]).raise_for_status()  # the other keeps the name
    assert [c["name"] for c in kore_sandbox.admin.campaigns()["campaigns"]] == [sample_body["name"]]
