from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import responses

from airflow_campaign_provider import clock
from airflow_campaign_provider.hooks.campaign import CampaignHook

HOST = "https://kore.example.test"
CLIENT_ID = "cs-test-client"
CLIENT_SECRET = "s3cr3t-client-value-for-tests-0123456789abcdef"
ACCOUNT_ID = "0123456789abcdef01234567"
STREAM_ID = "st-0603182c-7ffb-53c3-b307-47ca14b00000"
BASE = f"{HOST}/campaign/api/v2/public/{STREAM_ID}/campaign"


def connection_json(**overrides: object) -> str:
    conn: dict[str, object] = {
        "conn_type": "kore_campaign",
        "host": HOST,
        "login": CLIENT_ID,
        "password": CLIENT_SECRET,
        "extra": {"account_id": ACCOUNT_ID, "stream_id": STREAM_ID},
    }
    extra = overrides.pop("extra", None)
    conn.update(overrides)
    if isinstance(extra, dict):
        conn["extra"] = {**conn["extra"], **extra}  # type: ignore[dict-item]
    return json.dumps(conn)


@pytest.fixture
def kore_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json())


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Back-off waits the hook asked for, without waiting."""
    recorded: list[float] = []
    monkeypatch.setattr(clock, "backoff", recorded.append)
    return recorded


@pytest.fixture
def hook(kore_connection: None, sleeps: list[float]) -> Iterator[CampaignHook]:
    campaign_hook = CampaignHook()
    yield campaign_hook
    campaign_hook.close()


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
