"""The admin route that seeds many campaigns in one call (teardown tests and benchmarks use it)."""

from __future__ import annotations

import httpx
import pytest

from airflow_campaign_provider.sandbox import SandboxServer


def test_one_call_seeds_count_campaigns_named_in_order(kore_sandbox: SandboxServer) -> None:
    ids = kore_sandbox.admin.seed_many(12, {"status": "Stopped"}, name_prefix="Bulk ")

    campaigns = {c["id"]: c for c in kore_sandbox.admin.campaigns()["campaigns"]}
    assert [campaigns[cid]["name"] for cid in ids] == [f"Bulk {n:02d}" for n in range(1, 13)]
    assert {campaigns[cid]["status"] for cid in ids} == {"Stopped"}
    assert kore_sandbox.admin.requests() == []  # outside the Kore paths: no log, no rate limit


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"count": 0}, "count: must be a whole number from 1 to 20000"),
        ({"count": True}, "count: must be a whole number"),
        ({"count": 2, "campaign": []}, "campaign: must be a campaign spec object"),
        ({"count": 2, "name_prefix": 3}, "name_prefix: must be a string"),
        ({"count": 2, "campaign": {"status": "Done"}}, "campaigns[0].status: must be one of"),
    ],
)
def test_a_bad_bulk_seed_is_refused_naming_the_rule(
    kore_sandbox: SandboxServer, body: dict, rule: str
) -> None:
    answer = httpx.post(f"{kore_sandbox.url}/_sandbox/campaigns/bulk", json=body)

    assert answer.status_code == 400
    assert rule in answer.text
    assert kore_sandbox.admin.campaigns()["liveCount"] == 0
