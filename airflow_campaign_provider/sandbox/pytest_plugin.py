"""pytest fixtures that give tests a local Kore.ai campaign sandbox.

Registered through the ``pytest11`` entry point, so installing this package makes them
available in every test suite (``-p no:kore_sandbox`` switches them off)::

    def test_my_campaign_dag(kore_sandbox):
        # AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT now points at the sandbox
        run_my_dag()
        sent = kore_sandbox.admin.messages()
        assert len({m["phone"] for m in sent}) == len(sent)  # nobody got an SMS twice

Fixtures:

``kore_sandbox``
    The shared ``SandboxServer`` reset to its initial state (config, seed data, no faults,
    empty request log and messages, no campaigns), with the connection's environment variable
    set for this test only. Steer it with ``kore_sandbox.admin`` (faults, config changes,
    seeding, request log); changes last until the next test's reset.
``kore_sandbox_server``
    The session-wide ``SandboxServer`` (started on first use, in a background thread).
``kore_sandbox_config``
    The session's ``SandboxConfig``: rate limit off, 0.05 s in Preparing, 0.01 s between two
    messages, 0.05 s for added contacts to join their list. Override this fixture in a ``conftest.py`` to change it.
``kore_sandbox_conn_id``
    The connection id whose ``AIRFLOW_CONN_…`` variable is set (``kore_campaign_default``);
    override it to test a DAG that uses another connection id.

Importing this plugin is cheap: the server's dependencies load only when a fixture is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_campaign_provider.sandbox.config import SandboxConfig
    from airflow_campaign_provider.sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def kore_sandbox_config() -> SandboxConfig:
    """Settings of the shared sandbox: no rate limit and fast lifecycle timings."""
    from airflow_campaign_provider.sandbox.config import SandboxConfig

    return SandboxConfig(
        rate_limit_per_window=None,
        preparing_seconds=0.05,
        send_interval_seconds=0.01,
        contact_import_seconds=0.05,
    )


@pytest.fixture(scope="session")
def kore_sandbox_conn_id() -> str:
    """The Airflow connection id pointed at the sandbox."""
    return "kore_campaign_default"


@pytest.fixture(scope="session")
def kore_sandbox_server(kore_sandbox_config: SandboxConfig) -> Iterator[SandboxServer]:
    """One sandbox for the whole session, on a free loopback port."""
    from airflow_campaign_provider.sandbox.server import SandboxServer

    with SandboxServer(kore_sandbox_config) as server:
        yield server


@pytest.fixture
def kore_sandbox(
    kore_sandbox_server: SandboxServer, kore_sandbox_conn_id: str, monkeypatch: pytest.MonkeyPatch
) -> SandboxServer:
    """The shared sandbox, freshly reset, with its connection in the environment."""
    kore_sandbox_server.admin.reset()
    for name, value in kore_sandbox_server.connection_env(kore_sandbox_conn_id).items():
        monkeypatch.setenv(name, value)
    return kore_sandbox_server
