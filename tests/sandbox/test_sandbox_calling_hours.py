"""The sandbox sends only inside a campaign's calling hours, in its time zone, as Kore does
(``enforce_calling_hours``); off, it sends at once. The store's clock is the ``now`` it is given."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from airflow_campaign_provider.sandbox import sample_create_body
from airflow_campaign_provider.sandbox.__main__ import build_parser, config_from_args
from airflow_campaign_provider.sandbox.calling_hours import is_open, next_open, wall_time, windows
from airflow_campaign_provider.sandbox.config import SandboxConfig
from airflow_campaign_provider.sandbox.page import render_view
from airflow_campaign_provider.sandbox.run_dag import options_from_args
from airflow_campaign_provider.sandbox.state import SandboxState
from airflow_campaign_provider.sandbox.store import Store
from tests.example_dags.conftest import EXAMPLES

KOLKATA = ZoneInfo("Asia/Kolkata")
#: Kore's documented sample: Monday to Friday, 9:00 AM to 6:00 PM, Asia/Kolkata.
WEEKDAYS = sample_create_body()["dialingStrategy"]["callingHours"]


def at(*args: int) -> float:
    return dt.datetime(*args, tzinfo=KOLKATA).timestamp()


def test_windows_are_the_weekdays_hours_in_the_campaigns_zone() -> None:
    sunday_noon = at(2026, 12, 6, 12, 0)

    first, second = itertools.islice(windows(WEEKDAYS, sunday_noon), 2)
    assert first == (at(2026, 12, 7, 9, 0), at(2026, 12, 7, 18, 0))
    assert second == (at(2026, 12, 8, 9, 0), at(2026, 12, 8, 18, 0))
    assert not is_open(WEEKDAYS, sunday_noon)
    assert is_open(WEEKDAYS, at(2026, 12, 7, 9, 30))
    assert next_open(WEEKDAYS, sunday_noon) == at(2026, 12, 7, 9, 0)
    # an hour of open time from Monday 17:30 runs into Tuesday morning
    assert wall_time(WEEKDAYS, at(2026, 12, 7, 17, 30), 3600) == at(2026, 12, 8, 9, 30)


def run_on_sunday(enforce: bool) -> tuple[Store, str, float]:
    store = Store(SandboxConfig(preparing_seconds=0, send_interval_seconds=60, enforce_calling_hours=enforce))
    sunday_noon = at(2026, 12, 6, 12, 0)
    store.start(SandboxConfig().seed, sunday_noon)
    campaign = store.create_sms(sample_create_body(), sunday_noon)
    store.play(campaign, sunday_noon)
    return store, campaign.id, sunday_noon


def test_a_campaign_started_on_sunday_waits_for_monday_nine_oclock() -> None:
    store, campaign_id, _ = run_on_sunday(enforce=True)

    store.advance(at(2026, 12, 7, 8, 59))
    assert store.messages_of(campaign_id, at(2026, 12, 7, 8, 59)) == []
    assert store.campaigns[campaign_id].status == "Active"
    sent = store.messages_of(campaign_id, at(2026, 12, 7, 12, 0))
    assert sent
    assert all(is_open(WEEKDAYS, m.sent_at) for m in sent)
    assert sent[0].sent_at == at(2026, 12, 7, 9, 1)  # one interval into the window
    assert store.campaigns[campaign_id].status == "Completed"


def test_a_run_that_reaches_the_windows_end_goes_on_the_next_morning() -> None:
    store = Store(SandboxConfig(preparing_seconds=0, send_interval_seconds=1200, enforce_calling_hours=True))
    monday_evening = at(2026, 12, 7, 17, 0)
    store.start(SandboxConfig().seed, monday_evening)
    campaign = store.create_sms(sample_create_body(), monday_evening)
    store.play(campaign, monday_evening)

    sent = store.messages_of(campaign.id, at(2026, 12, 9, 0, 0))
    times = [m.sent_at for m in sent]
    assert times[:3] == [at(2026, 12, 7, 17, 20), at(2026, 12, 7, 17, 40), at(2026, 12, 7, 18, 0)]
    assert times[3] == at(2026, 12, 8, 9, 20)
    assert all(is_open(WEEKDAYS, t) or t == at(2026, 12, 7, 18, 0) for t in times)


def test_told_to_ignore_the_hours_the_sandbox_sends_at_once() -> None:
    store, campaign_id, sunday_noon = run_on_sunday(enforce=False)

    sent = store.messages_of(campaign_id, sunday_noon + 60)
    assert [m.sent_at for m in sent] == [sunday_noon + 60]


def test_a_sandbox_a_person_starts_enforces_the_hours_and_run_dag_says_why_it_does_not() -> None:
    parser = build_parser()

    assert config_from_args(parser.parse_args([])).enforce_calling_hours
    assert not config_from_args(parser.parse_args(["--calling-hours", "ignore"])).enforce_calling_hours
    assert not options_from_args(["--dags-folder", str(EXAMPLES)]).sandbox.enforce_calling_hours
    options = options_from_args(["--dags-folder", str(EXAMPLES), "--calling-hours", "enforce"])
    assert options.sandbox.enforce_calling_hours


def test_the_page_says_when_a_held_campaign_will_send() -> None:
    sunday_noon = at(2026, 12, 6, 12, 0)
    state = SandboxState(SandboxConfig(preparing_seconds=0, enforce_calling_hours=True), sunday_noon)
    campaign = state.store.create_sms(sample_create_body(), sunday_noon)
    state.store.play(campaign, sunday_noon)

    view = render_view(state, sunday_noon + 10)

    assert "outside its calling hours until Mon 09:00 Asia/Kolkata" in view
    assert "calling hours enforced" in view
