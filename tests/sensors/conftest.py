"""Fixtures of the sensor tests: the hook tests' mocked Kore (responses) and log capture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.hooks.conftest import hook, kore_connection, mocked, sleeps

__all__ = ["hook", "kore_connection", "logs", "mocked", "sleeps"]


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """Everything logged through structlog (Airflow's loggers)."""
    with capture_logs() as captured:
        yield captured
