"""The pytest plugin: its fixtures hand a test a reset sandbox and the connection to reach it."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer


@pytest.fixture
def kore_sandbox_conn_id() -> str:
    """Overridden here, as a user would, to point another connection id at the sandbox."""
    return "my_kore"


def test_the_plugin_is_registered_by_entry_point(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("kore_sandbox")


def test_the_session_config_is_fast_and_unlimited(kore_sandbox_config: SandboxConfig) -> None:
    assert kore_sandbox_config.rate_limit_per_window is None
    assert kore_sandbox_config.preparing_seconds <= 0.1
    assert kore_sandbox_config.send_interval_seconds <= 0.01


def test_the_connection_is_in_the_environment(kore_sandbox: SandboxServer) -> None:
    connection = json.loads(os.environ["AIRFLOW_CONN_MY_KORE"])

    assert connection == kore_sandbox.connection()
    assert connection["conn_type"] == "kore_campaign"
    assert connection["host"] == kore_sandbox.url


def test_each_test_starts_from_a_reset(
    kore_sandbox_server: SandboxServer, request: pytest.FixtureRequest
) -> None:
    kore_sandbox_server.admin.seed_campaign("Ready")
    kore_sandbox_server.admin.set_faults(error_rate=1.0)

    sandbox = request.getfixturevalue("kore_sandbox")

    assert sandbox is kore_sandbox_server
    assert sandbox.admin.campaigns()["liveCount"] == 0
    assert sandbox.admin.faults().error_rate == 0
