"""Fixtures of the operator tests: valid arguments, a task context, a mocked hook, a fake clock."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import responses

from airflow_campaign_provider import clock as clock_seam
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators import base as operator_module
from airflow_campaign_provider.sandbox.seed import WELCOME_BODY as WELCOME
from tests.hooks.conftest import connection_json

WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"]
VALID_ARGS: dict[str, Any] = {
    "name": "Billing Alert Template Campaign-21212",
    "description": "Alerts customers about pending bills.",
    "contact_lists": ["CL Only 2020 Dec 4"],
    "template_name": "Welcome",
    "message": WELCOME,
    "caller_id": "+919561612345",
    "calling_hours": {
        "frequency": "WEEKLY",
        "timezone": "Asia/Kolkata",
        "days": [{"day": day, "start": "9:00 AM", "end": "6:00 PM"} for day in WEEKDAYS],
    },
    "priority": 5,
    "dnc_list": "testdnc",
}


def valid_args(**overrides: Any) -> dict[str, Any]:
    """A deep copy of arguments that pass every rule, with ``overrides`` applied."""
    return {**copy.deepcopy(VALID_ARGS), **overrides}


#: The hook methods that each make one call to Kore.ai.
KORE_CALLS = (
    "create_sms_campaign",
    "get_campaign",
    "get_campaign_status",
    "start_campaign",
    "stop_campaign",
    "delete_campaign",
    "list_campaigns_page",
    "find_campaign_by_name",
    "campaigns_named",  # the look-up after a create: no same-named twin unless a test says so
)


class FakeClock:
    """``time.monotonic`` for the operator module that only moves when it sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_800_000_000.0 + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:

    fake = FakeClock()
    monkeypatch.setattr(clock_seam, "monotonic", fake.monotonic)  # the lifecycle's waits and re-checks
    monkeypatch.setattr(clock_seam, "wall", fake.time)  # the trigger's deadline is set when deferring
    monkeypatch.setattr(clock_seam, "sleep", fake.sleep)
    return fake


@pytest.fixture
def ti() -> mock.MagicMock:
    return mock.MagicMock(name="ti")


@pytest.fixture
def context(ti: mock.MagicMock) -> dict[str, Any]:
    return {"ti": ti}


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> mock.MagicMock:
    """The CampaignHook every operator of the test gets: its lifecycle methods are real, the
    calls they make to Kore.ai (one per method below) are mocks."""
    double = CampaignHook()
    calls = mock.Mock()  # records every Kore call in order, as ``method_calls``
    for name in KORE_CALLS:
        method = mock.create_autospec(getattr(double, name))
        calls.attach_mock(method, name)
        monkeypatch.setattr(double, name, method)
    double.campaigns_named.return_value = []  # type: ignore[attr-defined]
    double.method_calls = calls.method_calls  # type: ignore[attr-defined]
    monkeypatch.setattr(operator_module, "CampaignHook", mock.Mock(return_value=double))
    return double  # type: ignore[return-value]


@pytest.fixture
def kore_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json())
    monkeypatch.setattr(clock_seam, "backoff", lambda seconds: None)


@pytest.fixture
def no_http(kore_connection: None) -> Iterator[responses.RequestsMock]:
    """Mocked HTTP with nothing registered: any request fails, and ``calls`` records it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
