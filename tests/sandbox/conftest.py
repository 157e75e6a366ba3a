"""Fixtures of the sandbox tests; the sandbox itself comes from the package's pytest plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_campaign_provider.sandbox import SandboxServer, sample_create_body
from tests.sandbox.testkit import KoreClient

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


@pytest.fixture
def kore(kore_sandbox: SandboxServer) -> Iterator[KoreClient]:
    """A documented-API client for the freshly reset shared sandbox."""
    client = KoreClient(kore_sandbox)
    yield client
    client.close()


@pytest.fixture
def sample_body() -> dict[str, Any]:
    """The documented create request, valid against the default seed."""
    return sample_create_body()
