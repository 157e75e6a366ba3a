"""The sandbox's page in headless Chromium while a DAG runs: a person watching ``make demo`` sees
each SMS appear with its text. ``run_dag --keep-sandbox`` prints the page's address; the page
refreshes itself, so the browser only waits. A screenshot is kept in ``.ui-test-artifacts/``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_demo import DEMO
from tests.ui.test_connection_form import ARTIFACTS, browser  # noqa: F401  (the fixture, by name)

pytestmark = [pytest.mark.ui, pytest.mark.timeout(900)]

WATCH_LINE = re.compile(r"watch it\s+(http://\S+/_sandbox)")
WEEKLY_WELCOME = "Welcome to Acme, &lt;First Name&gt;! Your account is ready."


def test_a_sent_message_appears_on_the_sandbox_page_during_a_run(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver = request.getfixturevalue("browser")

    run = subprocess.Popen(
        [*DEMO, "--send-interval", "2", "--keep-sandbox"],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: list[str] = []
    try:
        assert run.stdout is not None
        url = None
        for line in run.stdout:
            seen.append(line)
            if found := WATCH_LINE.search(line):
                url = found[1]
                break
        assert url, "".join(seen)
        driver.get(url)  # type: ignore[attr-defined]
        # before the run has sent anything, the page is there and empty
        assert "Kore.ai sandbox" in driver.title  # type: ignore[attr-defined]

        def message_shown(driver: object) -> bool:
            source = driver.page_source  # type: ignore[attr-defined]
            return (
                "<h2>Messages and calls" in source
                and WEEKLY_WELCOME in source.split("<h2>Messages and calls")[1]
            )

        WebDriverWait(driver, 300, poll_frequency=0.5).until(message_shown)
        still_running = run.poll() is None
        rows = driver.find_elements(
            "xpath", "//h2[starts-with(., 'Messages and calls')]/following-sibling::table[1]//tbody/tr"
        )  # type: ignore[attr-defined]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "sandbox-page.png"))  # type: ignore[attr-defined]
        assert still_running
        assert rows
        assert "+1415555011" in rows[0].text
        for line in run.stdout:  # the run goes on to its summary; the sandbox then stays up
            seen.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        # after the run: the campaign was deleted (a teardown), what it sent is still there to read
        WebDriverWait(driver, 30, poll_frequency=0.5).until(
            lambda d: "0 live campaigns, 1 deleted" in d.page_source  # type: ignore[attr-defined]
        )
        assert message_shown(driver)
        driver.save_screenshot(str(ARTIFACTS / "sandbox-page-after-the-run.png"))  # type: ignore[attr-defined]
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGINT)
        rest, _ = run.communicate(timeout=120)
        seen.append(rest or "")
    out = "".join(seen)
    assert "DAG run kore_campaign_weekly_lifecycle: SUCCESS" in out, out
    assert "The sandbox is still up:" in out, out
    assert run.returncode == 0, out
