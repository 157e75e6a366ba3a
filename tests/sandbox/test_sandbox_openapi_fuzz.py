"""Schemathesis over the sandbox's own OpenAPI document: no input gets a 5xx (faults off).

Valid credentials, stream id and account id are put into every generated Kore request
(otherwise nearly everything would stop at the 401 gate); everything else is generated,
positive and negative. Each case starts from a reset sandbox so admin calls cannot leak into
the next one. A second, deeper run points the campaign operations at real campaigns, cycling
through their statuses, so that play, stop and delete really run on generated parameters.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from airflow_campaign_provider.sandbox.app import openapi_document
from tests.sandbox.testkit import KoreClient

if TYPE_CHECKING:
    from collections.abc import Iterator

    from schemathesis.generation.case import Case

    from airflow_campaign_provider.sandbox import SandboxServer

schema = schemathesis.openapi.from_dict(openapi_document())
campaign_operations = schema.include(path_regex=r"^/campaign/.*\{campaignId\}")


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
    )


STATUSES = itertools.cycle(["Active", "Ready", "Completed", "Paused", "Preparing", "Stopped"])


@pytest.fixture(scope="module")
def kore_for_fuzz(kore_sandbox_server: SandboxServer) -> Iterator[KoreClient]:
    client = KoreClient(kore_sandbox_server)
    yield client
    client.close()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def _send(case: Case, sandbox: SandboxServer, kore: KoreClient, session: requests.Session) -> None:
    """Fill in valid credentials for Kore paths, call, and insist on an answer below 500."""
    if case.path.startswith("/campaign/"):
        case.path_parameters = {**(case.path_parameters or {}), "streamId": sandbox.stream_id}
        case.query = {**(case.query or {}), "accountId": sandbox.account_id}
        case.headers.update((k, v) for k, v in kore.headers().items() if k != "Content-Type")

    request = case.as_transport_kwargs(base_url=sandbox.url)
    request["url"] = sandbox.url + case.formatted_path  # schemathesis' URL join drops the `//` of `//trigger`
    response = session.request(**request, timeout=10)

    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
    )


@schema.parametrize()
@fuzz_settings(10)
def test_no_input_gets_a_server_error(
    case: Case, kore_sandbox_server: SandboxServer, kore_for_fuzz: KoreClient, session: requests.Session
) -> None:
    kore_sandbox_server.admin.reset()
    _send(case, kore_sandbox_server, kore_for_fuzz, session)


@campaign_operations.parametrize()
@fuzz_settings(40)
def test_campaign_operations_on_real_campaigns_never_fail(
    case: Case, kore_sandbox_server: SandboxServer, kore_for_fuzz: KoreClient, session: requests.Session
) -> None:
    admin = kore_sandbox_server.admin
    admin.reset()
    kind = (case.query or {}).get("campaignType")
    campaign_id = admin.seed_campaign(
        next(STATUSES), campaign_type=kind if kind in ("sms", "voice") else "sms"
    )
    case.path_parameters = {**(case.path_parameters or {}), "campaignId": campaign_id}
    _send(case, kore_sandbox_server, kore_for_fuzz, session)
