"""The Kore.ai connection form in Airflow's real web UI, driven by headless Chromium.

A user adds a connection through the form, fills only what has no default, saves it, opens it
again and saves it unchanged (where a masked field would come back as "***"). The stored extras
must have their types, and ``airflow connections test`` must pass against the sandbox. One
api-server and one browser session; on failure a screenshot and the page are kept.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.config import SandboxConfig
from airflow_campaign_provider.sandbox.run_dag import airflow_env, conn_env_name
from tests.e2e.processes import RealAirflow
from tests.servers import free_port

# An api-server start and a few airflow commands: minutes on a busy 2-core machine.
pytestmark = [pytest.mark.ui, pytest.mark.timeout(900)]

CONN_ID = "kore_from_the_form"
STARTUP_SECONDS = 240.0
#: Kept after a failure: what the browser showed, and the page behind it.
ARTIFACTS = Path(os.environ.get("UI_TEST_ARTIFACTS", Path(__file__).parents[2] / ".ui-test-artifacts"))
#: Chromium as root in a container: no sandbox, no GPU, and nothing that calls home.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,2000",
)


def chromium_and_driver() -> tuple[str, str]:
    """Debian's chromium and chromedriver, installed with apt-get when missing."""
    found = shutil.which("chromium"), shutil.which("chromedriver")
    if None in found:
        if os.geteuid() != 0:
            pytest.skip("chromium or chromedriver is missing, and only root may apt-get install them")
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=apt_env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], check=True, env=apt_env
        )
        found = shutil.which("chromium"), shutil.which("chromedriver")
    browser, driver = found
    assert browser, "apt-get installed chromium, yet it is not on PATH"
    assert driver, "apt-get installed chromium-driver, yet chromedriver is not on PATH"
    return browser, driver


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(rate_limit_per_window=None)) as server:
        yield server


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[tuple[RealAirflow, str]]:
    """A real api-server on a fresh SQLite home; every user is an admin (no login page)."""
    port = free_port()
    dags = tmp_path / "dags"
    dags.mkdir()
    env = airflow_env(tmp_path, dags, "{}", poll_seconds=1.0)
    del env[conn_env_name("kore_campaign_default")]
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(32).hex(),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
        }
    )
    airflow = RealAirflow(tmp_path, env)
    url = f"http://127.0.0.1:{port}"
    try:
        airflow.cli("db", "migrate")
        airflow.start("api-server")
        airflow.wait_for("the api-server to answer", lambda: _healthy(url), STARTUP_SECONDS)
        yield airflow, url
    finally:
        airflow.stop()


def _healthy(url: str) -> bool | None:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as answer:
            return True if answer.status == 200 else None
    except OSError:
        return None


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium_and_driver()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    profile = tempfile.mkdtemp(prefix="kore-ui-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class ConnectionForm:
    """The steps a user takes on the Connections page."""

    def __init__(self, driver: object, url: str) -> None:
        self.driver = driver
        self.url = url

    def find(self, xpath: str) -> object:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.XPATH, xpath)  # type: ignore[attr-defined]

    def click(self, xpath: str) -> None:
        """Click as a user does: once nothing covers the element (an animation's overlay, say)."""
        from selenium.common.exceptions import ElementClickInterceptedException
        from selenium.webdriver.support.ui import WebDriverWait

        def clicked(driver: object) -> bool:
            try:
                self.find(xpath).click()  # type: ignore[attr-defined]
            except ElementClickInterceptedException:
                return False
            return True

        WebDriverWait(self.driver, 30).until(clicked)

    def type_into(self, css: str, text: str) -> None:
        from selenium.webdriver.common.by import By

        box = self.driver.find_element(By.CSS_SELECTOR, css)  # type: ignore[attr-defined]
        box.clear()
        box.send_keys(text)

    def open_extra_fields(self) -> None:
        self.click("//button[contains(., 'Extra Fields') and not(contains(., 'JSON'))]")

    def save(self) -> None:
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        dialog = self.find("//*[@role='dialog']")
        self.click("//*[@role='dialog']//button[normalize-space()='Save']")
        WebDriverWait(self.driver, 30).until(expected_conditions.staleness_of(dialog))

    def add(self, sandbox: SandboxServer) -> None:
        """Fill only what has no default: id, type, host, client id and secret, account and stream."""
        self.driver.get(f"{self.url}/connections")  # type: ignore[attr-defined]
        self.click("//button[normalize-space()='Add Connection']")
        self.type_into("input[name=connection_id]", CONN_ID)
        kind = self.find("//*[@role='dialog']//input[@role='combobox']")
        kind.click()
        kind.send_keys("Kore.ai")
        self.click("//*[@role='option'][normalize-space()='Kore.ai Campaigns']")
        self.type_into("input[name=host]", sandbox.url)
        self.type_into("input[name=login]", sandbox.client_id)
        self.type_into("input[name=password]", sandbox.client_secret)
        self.open_extra_fields()
        self.type_into("#element_account_id", sandbox.account_id)
        self.type_into("#element_stream_id", sandbox.stream_id)
        self.save()

    def edit_and_save_unchanged(self) -> dict[str, str]:
        """Open the saved connection and save it as shown; the values the form showed."""
        from selenium.webdriver.common.by import By

        self.click(f"//tr[.//*[normalize-space()='{CONN_ID}']]//button[@aria-label='Edit Connection']")
        self.open_extra_fields()
        shown = {
            box.get_attribute("name"): box.get_attribute("value")
            for box in self.driver.find_elements(By.CSS_SELECTOR, "[role=dialog] input[name^=element_]")  # type: ignore[attr-defined]
        }
        self.save()
        return shown


def test_a_connection_saved_from_the_form_with_its_defaults_works(
    api_server: tuple[RealAirflow, str], browser: object, sandbox: SandboxServer
) -> None:
    airflow, url = api_server
    form = ConnectionForm(browser, url)
    try:
        form.add(sandbox)
        shown = form.edit_and_save_unchanged()
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "connection-form.png"))  # type: ignore[attr-defined]
        (ARTIFACTS / "connection-form.html").write_text(browser.page_source)  # type: ignore[attr-defined]
        print(f"screenshot and page kept in {ARTIFACTS}", file=sys.stderr)
        raise
    assert shown["element_jwt_lifetime_seconds"] == "3600"
    assert "***" not in shown.values()

    exported = airflow.home / "connections.json"
    airflow.cli("connections", "export", str(exported))
    saved = json.loads(exported.read_text())[CONN_ID]
    assert (saved["conn_type"], saved["host"], saved["login"]) == (
        "kore_campaign",
        sandbox.url,
        sandbox.client_id,
    )
    extra = json.loads(saved["extra"])
    assert {name: value for name, value in extra.items() if value is not None} == {
        "account_id": sandbox.account_id,
        "stream_id": sandbox.stream_id,
        "jwt_lifetime_seconds": 3600,
        "enforce_jti": False,
        "requests_per_minute": 60,
    }  # the start/stop paths are left empty: each Kore page's own path
    assert type(extra["jwt_lifetime_seconds"]) is int
    assert type(extra["requests_per_minute"]) is int

    before = len(sandbox.admin.requests())
    airflow.cli("connections", "test", CONN_ID)
    assert "Connection success!" in (airflow.home / "cli.log").read_text()
    assert len(sandbox.admin.requests()) > before  # the test really reached the sandbox
