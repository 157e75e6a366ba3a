"""run_dag's progress: task states as they change, and counts on long waits (a bar on a terminal)."""

from __future__ import annotations

import io

from airflow_campaign_provider.sandbox.progress import QUIET_SECONDS, Progress, event_line, parse_event


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def campaign(sent: int, due: int, kind: str = "sms", cid: str = "cd-1") -> dict[str, object]:
    return {"id": cid, "campaignType": kind, "totalMessagesSent": sent, "due": due}


def test_an_event_line_round_trips_and_airflows_own_lines_are_not_events() -> None:
    line = event_line("create_campaign", -1, "failed", "CampaignArgumentsError: bad")

    assert parse_event(line) == {
        "task_id": "create_campaign",
        "map_index": -1,
        "state": "failed",
        "error": "CampaignArgumentsError: bad",
    }
    assert parse_event("[2026-12-06] INFO - Task started") is None


def test_plain_output_prints_each_task_change_and_counts_only_after_a_quiet_while() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, terminal=False, clock=clock)

    progress.task("wait", -1, "running")
    progress.sample([campaign(3, 192)])
    clock.now += QUIET_SECONDS + 1
    progress.sample([campaign(12, 192), campaign(2, 5, "voice", "cd-2")])
    progress.task("wait", -1, "running")
    progress.task("upload", 2, "failed", "ContactFileError: no phone column\nTraceback…")

    lines = out.getvalue().splitlines()
    assert lines[0].endswith("wait                         running")
    assert lines[1].endswith("… waiting: 12 SMS sent, 2 calls made, of 197 contacts due")
    assert lines[2].endswith("wait                         resumed (after waiting in the triggerer)")
    assert lines[3].endswith("upload[2]                    failed: ContactFileError: no phone column")
    assert len(lines) == 4
    assert "\r" not in out.getvalue()


def test_a_terminal_gets_a_bar_redrawn_in_place_that_task_lines_clear() -> None:
    out = io.StringIO()
    progress = Progress(out, terminal=True, clock=Clock())

    progress.sample([campaign(6, 12)])
    progress.task("wait", -1, "success")
    progress.close()

    text = out.getvalue()
    assert "[############............] 6 SMS sent, 0 calls made, of 12 contacts due" in text
    assert text.index("\r\033[K") < text.index("wait")
    assert text.rstrip("\n").endswith("success")


def test_a_deleted_campaign_keeps_its_count() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, terminal=False, clock=clock)

    progress.sample([campaign(5, 5)])
    clock.now += QUIET_SECONDS + 1
    progress.sample([])

    assert out.getvalue().endswith("… waiting: 5 SMS sent, 0 calls made, of 5 contacts due\n")
