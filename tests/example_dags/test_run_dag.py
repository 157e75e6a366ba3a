"""The demo driver's parts: reading the sandbox's record, watching statuses, the summary, the env."""

from __future__ import annotations

import io
import json
import re
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest

from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.sandbox import SandboxServer, run_dag, sample_create_body
from airflow_campaign_provider.sandbox.dag_test import StartCounter
from airflow_campaign_provider.sandbox.run_dag import (
    DELETED,
    CampaignRecord,
    RunSummary,
    StatusWatcher,
    airflow_env,
    collect,
    format_summary,
    options_from_args,
    read_run_result,
    request_campaign_id,
    request_kind,
)
from tests.example_dags.conftest import EXAMPLES


def test_request_kinds_name_every_call_the_operators_make(kore_sandbox: SandboxServer) -> None:
    hook = CampaignHook()
    campaign_id = hook.create_sms_campaign(sample_create_body())["_id"]
    hook.find_campaign_by_name("nobody")
    while hook.get_campaign_status(campaign_id) == "Preparing":
        time.sleep(0.02)
    hook.get_campaign(campaign_id)
    hook.start_campaign(campaign_id)
    hook.stop_campaign(campaign_id)
    hook.delete_campaign(campaign_id)

    records = kore_sandbox.admin.requests()
    kinds = [request_kind(r) for r in records]
    assert [k for k in dict.fromkeys(kinds)] == ["create", "list", "status", "read", "play", "stop", "delete"]
    assert {request_campaign_id(r) for r in records if request_kind(r) not in ("create", "list")} == {
        campaign_id
    }
    assert {request_campaign_id(r) for r in records if request_kind(r) in ("create", "list")} == {None}


def test_an_unknown_request_is_shown_as_method_and_path() -> None:
    assert (
        request_kind({"method": "PUT", "path": "/elsewhere", "query": "", "operation": None})
        == "PUT /elsewhere"
    )


def test_the_watcher_records_each_status_change_and_the_deletion(kore_sandbox: SandboxServer) -> None:
    admin = kore_sandbox.admin
    (campaign_id,) = admin.seed_campaigns([{"status": "Preparing", "ready_in_seconds": 0.5}])
    watch_admin = type(admin)(kore_sandbox.url)
    try:
        with StatusWatcher(watch_admin, interval=0.05) as watcher:
            deadline = time.monotonic() + 30
            while watcher.campaigns.get(campaign_id, CampaignRecord("", "")).statuses[-1:] != ["Ready"]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            CampaignHook().delete_campaign(campaign_id)
    finally:
        watch_admin.close()

    record = watcher.campaigns[campaign_id]
    assert record.statuses == ["Preparing", "Ready", DELETED]
    assert record.deleted


def test_the_watcher_counts_the_contacts_due_of_a_list_filled_through_the_api(
    kore_sandbox: SandboxServer,
) -> None:
    """The old summary read only seeded lists: "SMS sent 192 to 192 of the 0 contacts due"."""
    hook = CampaignHook()
    contact_list = hook.create_contact_list("Filled through the API", "three numbers")
    hook.add_contacts("Filled through the API", ["+14155550901", "+14155550902", "+14155550903"])
    while hook.get_contact_list(contact_list["_id"])["totalRecordCount"] < 3:
        time.sleep(0.05)
    body = sample_create_body("Uses the API list")
    body["contactLists"] = ["Filled through the API"]
    campaign_id = hook.create_sms_campaign(body)["_id"]
    while hook.get_campaign_status(campaign_id) == "Preparing":
        time.sleep(0.02)
    hook.start_campaign(campaign_id)
    while hook.get_campaign_status(campaign_id) != "Completed":
        time.sleep(0.05)

    watcher = StatusWatcher(kore_sandbox.admin)
    watcher.sample()
    result = collect("d", "success", 1.0, [], watcher.campaigns, kore_sandbox.admin)
    (record,) = result.campaigns

    assert record.due == 3
    assert record.statuses == ["Preparing", "Ready", "Active", "Completed"]
    assert 'SMS sent       3, exactly one to each of the 3 contacts due (list "Filled through the API"' in (
        format_summary(result)
    )


def test_a_seeded_campaign_is_summarized_from_its_own_lists(kore_sandbox: SandboxServer) -> None:
    """The old summary read lists from create requests: "0 to 0 of the 0 contacts due (list ?)"."""
    admin = kore_sandbox.admin
    active, ready = admin.seed_campaigns(
        [{"status": "Active", "complete_in_seconds": 0.2}, {"status": "Ready"}]
    )
    while admin.campaigns()["byStatus"].get("Active"):
        time.sleep(0.05)

    watcher = StatusWatcher(admin)
    watcher.sample()
    text = format_summary(collect("d", "success", 1.0, [], watcher.campaigns, admin))

    assert "list ?" not in text
    assert "of the 0 contacts due" not in text
    assert re.search(r"SMS sent       \d+, exactly one to each of the \d+ contacts due \(list \"", text), text
    assert "SMS sent       none (never started)" in text
    assert f"{ready} (Ready: STILL RUNNING)" in text
    assert f"{active} (Completed)" in text


def test_a_campaign_stopped_on_purpose_is_not_left_behind(kore_sandbox: SandboxServer) -> None:
    hook = CampaignHook()
    campaign_id = hook.create_sms_campaign(sample_create_body())["_id"]
    while hook.get_campaign_status(campaign_id) == "Preparing":
        time.sleep(0.02)
    hook.start_campaign(campaign_id)
    hook.stop_campaign(campaign_id)

    watcher = StatusWatcher(kore_sandbox.admin)
    watcher.sample()
    text = format_summary(collect("d", "success", 1.0, [], watcher.campaigns, kore_sandbox.admin))

    assert "Left in Kore.ai    nothing running (the stopped campaigns below stay, as asked)" in text
    assert f"Stopped on purpose {campaign_id} (still in Kore.ai, sending nothing)" in text


def summary(messages: list[str], *, state: str = "success", left: list[str] | None = None) -> RunSummary:
    campaign = CampaignRecord(
        "cd-1",
        "Weekly welcome 20250106T090000",
        statuses=["Preparing", "Ready", "Active", "Completed", DELETED],
        contact_lists=["Weekly new customers"],
        dnc_list="Do not text",
        messages=messages,
        due=2,
    )
    return RunSummary(
        dag_id="kore_campaign_weekly_lifecycle",
        state=state,
        seconds=21.4,
        tasks=[("create_campaign", -1, "success"), ("delete_campaign", -1, "success")],
        campaigns=[campaign],
        calls=Counter({"status": 9, "create": 1, "play": 1, "delete": 1}),
        rate_limited=0,
        left_behind=left or [],
        deferred={"create_campaign"},
    )


def test_the_summary_says_what_happened_to_the_campaign() -> None:
    text = format_summary(summary(["+1", "+2"]))

    assert 'Campaign "Weekly welcome 20250106T090000" (cd-1)' in text
    assert "statuses seen  Preparing → Ready → Active → Completed → deleted" in text
    assert (
        'SMS sent       2, exactly one to each of the 2 contacts due (list "Weekly new customers" minus DNC '
        'list "Do not text")' in text
    )
    assert "Kore.ai API calls  12: 9 status, 1 create, 1 play, 1 delete; none rate-limited" in text
    assert "Left in Kore.ai    nothing (every campaign deleted)" in text
    assert "create_campaign     success (deferred to the trigger, then resumed)" in text
    assert text.endswith("DAG run kore_campaign_weekly_lifecycle: SUCCESS in 21 s")


def test_the_summary_flags_a_second_sms_and_a_leftover_campaign() -> None:
    result = summary(["+1", "+2", "+1"], left=["cd-1"])
    text = format_summary(result)

    assert "SMS sent       3 to 2 of the 2 contacts due" in text
    assert "TEXTED MORE THAN ONCE: +1" in text
    assert "Left in Kore.ai    cd-1 (deleted)" in text


def test_a_failed_teardown_makes_the_run_unsuccessful_even_when_airflow_calls_it_a_success() -> None:
    result = summary(["+1", "+2"])
    result.tasks.append(("wait_for_completion", -1, "success"))
    result.tasks[1] = ("delete_campaign", -1, "failed")

    assert not result.succeeded
    assert format_summary(result).endswith("SUCCESS in 21 s; not successful: delete_campaign")


def test_the_throwaway_airflow_sees_none_of_the_callers_airflow_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    monkeypatch.setenv("AIRFLOW_CONN_SOMETHING_ELSE", "postgres://x")
    monkeypatch.setenv("AIRFLOW_HOME", "/home/me/airflow")
    monkeypatch.setenv("KEEP_ME", "1")

    env = airflow_env(Path("/tmp/home"), Path("/dags"), '{"conn_type": "kore_campaign"}', 1.0)

    assert "AIRFLOW__CORE__EXECUTOR" not in env
    assert "AIRFLOW_CONN_SOMETHING_ELSE" not in env
    assert env["AIRFLOW_HOME"] == "/tmp/home"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/dags"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "sqlite:////tmp/home/airflow.db"
    assert env["AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT"] == '{"conn_type": "kore_campaign"}'
    assert env["KORE_EXAMPLE_POLL_SECONDS"] == "1"
    assert env["KEEP_ME"] == "1"


def test_the_command_line_defaults_to_the_lifecycle_example_with_its_seed_and_a_realistic_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(EXAMPLES.parent)
    options = options_from_args([])

    assert options.dag_id == "kore_campaign_weekly_lifecycle"
    assert options.seed is not None
    assert options.seed.name == "sandbox_seed.json"
    assert options.sandbox.rate_limit_per_window == 60
    assert options.sandbox.preparing_seconds == 2.0
    assert options.sandbox.send_interval_seconds == 1.0


def test_a_missing_dags_folder_is_a_usage_error_that_says_where_the_examples_are(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pip install has no example_dags/ beside it: say so, no traceback, before any sandbox."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_dag, "run_dag", lambda options: pytest.fail("ran without a DAGs folder"))

    with pytest.raises(SystemExit) as exit_info:
        run_dag.main([])

    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"no DAGs folder {tmp_path / 'example_dags'}; pass --dags-folder DIR" in error
    assert run_dag.EXAMPLES_URL in error
    assert "Traceback" not in error


@pytest.mark.parametrize(
    ("state", "task_state", "code"),
    [("success", "success", 0), ("failed", "success", 1), ("success", "failed", 1)],
)
def test_the_exit_status_is_zero_only_when_the_run_and_every_task_succeeded(
    monkeypatch: pytest.MonkeyPatch, state: str, task_state: str, code: int
) -> None:
    summary = RunSummary("d", state, 1.0, [("t", -1, task_state)], [], Counter(), 0, [])
    monkeypatch.setattr(run_dag, "run_dag", lambda options: summary)

    assert run_dag.main([]) == code


def test_task_states_come_in_start_order_map_indexes_together(tmp_path: Path) -> None:
    result = {
        "state": "failed",
        "tasks": [
            ["create", 1, "success", "2025-01-06T09:00:01"],
            ["create", 0, "failed", "2025-01-06T09:00:02"],
            ["plan", -1, "success", "2025-01-06T09:00:00"],
            ["report", -1, "no status", None],
        ],
        "deferred": ["create"],
    }
    (tmp_path / "run.json").write_text(json.dumps(result))

    assert read_run_result(tmp_path / "run.json") == (
        "failed",
        [
            ("plan", -1, "success"),
            ("create", 0, "failed"),
            ("create", 1, "success"),
            ("report", -1, "no status"),
        ],
        {"create"},
    )
    assert read_run_result(tmp_path / "missing.json") == ("not run", [], set())


def test_a_task_that_starts_again_within_one_try_is_the_one_that_deferred() -> None:
    counter = StartCounter()
    for task_id, try_number in [("wait", 1), ("wait", 1), ("retried", 1), ("retried", 2), ("plain", 1)]:
        counter.on_task_instance_running(
            None, SimpleNamespace(task_id=task_id, map_index=-1, try_number=try_number)
        )

    assert counter.resumed_tasks() == ["wait"]


def test_a_message_sent_outside_the_calling_hours_is_told_what_kore_would_have_done() -> None:
    result = summary(["+1", "+2"])
    (campaign,) = result.campaigns
    campaign.calling_hours = sample_create_body()["dialingStrategy"]["callingHours"]  # Mon-Fri 9-6
    campaign.first_sent_outside = datetime(2026, 12, 6, 12, 0, tzinfo=ZoneInfo("Asia/Kolkata")).timestamp()

    assert (
        "  calling hours  sent from Sun 12:00 Asia/Kolkata, outside them: Kore would have waited until "
        "Mon 09:00 (--calling-hours enforce does)"
    ) in format_summary(result)


def test_the_errors_name_each_failed_task_first(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text(
        "noise\nairflow_campaign_provider.exceptions.CampaignArgumentsError: 1 invalid campaign argument:\n"
        "airflow.sdk.exceptions.AirflowException: something else\n"
    )
    out = io.StringIO()

    run_dag._print_errors(
        log, out, {"create_campaign": "CampaignArgumentsError: 1 invalid campaign argument:"}
    )

    text = out.getvalue()
    assert text.startswith(
        "\nFailed tasks\n  create_campaign: CampaignArgumentsError: 1 invalid campaign argument:\n"
    )
    assert "AirflowException: something else" in text
    assert text.count("1 invalid campaign argument") == 1


@pytest.mark.e2e
def test_keep_sandbox_prints_the_pages_address_and_keeps_it_up_until_told(tmp_path: Path) -> None:
    out = io.StringIO()
    seen: list[int] = []

    def look() -> None:  # what a person does while run_dag waits: open the page
        url = re.search(r"The sandbox is still up: (http://\S+/_sandbox) \(its page\)", out.getvalue())
        assert url is not None, out.getvalue()
        seen.append(httpx.get(url[1]).status_code)
        raise KeyboardInterrupt  # then Ctrl-C

    options = run_dag.DemoOptions(
        dag_id="no_such_dag", dags_folder=EXAMPLES, keep_home=False, keep_sandbox=True
    )
    summary = run_dag.run_dag(options, out=out, wait=look)

    assert seen == [200]
    assert not summary.succeeded
    assert "Press Ctrl-C to stop it." in out.getvalue()
    assert "\nStopping the sandbox.\n" in out.getvalue()
