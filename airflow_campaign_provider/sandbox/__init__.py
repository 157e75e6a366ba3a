"""A local Kore.ai Campaign Management API v2 server for demos, tests and benchmarks.

What moto is for AWS: run campaign DAGs end to end without a Kore.ai account and without
sending one real SMS. `python -m airflow_campaign_provider.sandbox` serves one from the
command line; `SandboxServer` runs one from Python; the pytest plugin
(`airflow_campaign_provider.sandbox.pytest_plugin`) hands one to tests. Importing this package
is cheap: FastAPI and uvicorn load only when a server starts. It never imports Airflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_campaign_provider._lazy import lazy_names
from airflow_campaign_provider.sandbox.config import FaultConfig, SandboxConfig
from airflow_campaign_provider.sandbox.seed import Seed, Template, sample_create_body, sample_voice_body
from airflow_campaign_provider.sandbox.server import SandboxServer

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox.admin import SandboxAdmin

__all__ = [
    "FaultConfig",
    "SandboxAdmin",
    "SandboxConfig",
    "SandboxServer",
    "Seed",
    "Template",
    "sample_create_body",
    "sample_voice_body",
]


#: `SandboxAdmin` is imported on first use (it pulls in httpx).
__getattr__ = lazy_names(__name__, {"SandboxAdmin": "airflow_campaign_provider.sandbox.admin"})
