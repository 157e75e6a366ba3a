"""Token trouble against the sandbox's real JWT checks: a refused token is re-minted once, no more.

* The account's client secret is rotated mid-run (and later restored): every call then fails
  with one clear ``CampaignAuthError`` after exactly two requests (the refused token and the one
  re-minted), in a worker and in the triggerer, and nothing is sent. Retrying would not help.
* A token the server considers expired (the client's clock ran behind) is re-minted once and the
  call succeeds; every later call reuses the new token.
* The account starts enforcing ``jti`` mid-run: each call is refused once (the reused token
  carries no ``jti``) and resent with a one-time token, so it still succeeds, until the
  connection says ``enforce_jti`` and each call costs one request.
"""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from airflow_campaign_provider.api import RetryPolicy, TokenMinter
from airflow_campaign_provider.exceptions import CampaignAuthError
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.campaign import StartCampaignOperator, StopCampaignOperator
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.run_dag import request_kind
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor
from airflow_campaign_provider.triggers.campaign import CampaignStatusTrigger, CampaignWaitError
from airflow_campaign_provider.triggers.poller import PollerOptions

from .conftest import add_figures
from .harness import Triggerer, run_task, running_triggerer, task_context

ROTATED_SECRET = "rotated-client-secret-" + "f" * 24
OPTIONS = PollerOptions(budget_window_seconds=1.0, retry_policy=RetryPolicy(base_wait_seconds=0.05))
TITLE = "Token trouble (sandbox with real JWT checks)"


@pytest.fixture
def triggerer() -> Iterator[Triggerer]:
    with running_triggerer(OPTIONS) as running:
        yield running


def answers(sandbox: SandboxServer) -> list[tuple[str, int | None]]:
    """``(kind, HTTP status)`` of every Kore request since the log was last cleared."""
    return [(request_kind(r), r["status"]) for r in sandbox.admin.requests()]


def test_a_rotated_secret_gives_one_clear_auth_error_per_call_not_a_retry_storm(
    kore_sandbox: SandboxServer, triggerer: Triggerer
) -> None:
    admin = kore_sandbox.admin
    admin.update_config(send_interval_seconds=0.5)
    waited = [admin.seed_campaign("Active", complete_in_seconds=60) for _ in range(10)]
    ready = admin.seed_campaign("Ready")
    secret = kore_sandbox.client_secret

    # Ten deferred waits are polling happily when the account's secret is rotated.
    triggers = [
        CampaignStatusTrigger(campaign_id=cid, target_statuses=["Completed"], poll_interval=0.2)
        for cid in waited
    ]
    running = [triggerer.start(trigger) for trigger in triggers]
    _wait_for(lambda: triggerer.poller_cycles() >= 2)
    admin.update_config(client_secret=ROTATED_SECRET)
    results = [future.result(timeout=30) for future in running]
    statuses = [status for _, status in answers(kore_sandbox)]

    # One poller, one shared token: one refused read, one re-mint, one more refusal. All ten end.
    refused_from = statuses.index(401)
    assert set(statuses[:refused_from]) == {200}
    assert statuses[refused_from:] == [401, 401]
    assert {event["status"] for event in results} == {"error"}
    for event in results:
        assert "HTTP 401" in event["message"]
        assert "signature does not match the client secret" in event["message"]
        with pytest.raises(CampaignWaitError, match="HTTP 401"):
            CampaignStatusSensor(task_id="wait", campaign_id=event["campaign_id"]).execute_complete({}, event)

    # In a worker: the start refuses after two requests and plays nothing; so does the sensor.
    admin.clear_requests()
    with pytest.raises(CampaignAuthError) as refused:
        StartCampaignOperator(task_id="start", campaign_id=ready).execute(task_context())
    assert answers(kore_sandbox) == [("status", 401), ("status", 401)]
    text = str(refused.value)
    assert "HTTP 401" in text
    assert f"/campaign/{ready}/status" in text
    assert "The token's signature does not match the client secret!" in text
    assert secret not in text
    assert ROTATED_SECRET not in text
    admin.clear_requests()
    with pytest.raises(CampaignAuthError, match="HTTP 401"):
        CampaignStatusSensor(task_id="wait", campaign_id=waited[0], poke_interval=0.1, timeout=5).execute({})
    assert answers(kore_sandbox) == [("status", 401), ("status", 401)]

    # Airflow's retries cost two requests a try, and only that: still no back-off storm.
    admin.clear_requests()
    retried: list[BaseException] = []
    with pytest.raises(CampaignAuthError):
        run_task(
            lambda: StopCampaignOperator(task_id="stop", campaign_id=waited[0]),
            task_context(),
            tries=3,
            on_retry=retried.append,
        )
    assert len(retried) == 2
    assert answers(kore_sandbox) == [("status", 401)] * 6

    # The secret is restored: the same deferred waits and the same start work again.
    admin.update_config(client_secret=secret)
    admin.clear_requests()
    assert StartCampaignOperator(task_id="start", campaign_id=ready).execute(task_context()) == "Active"
    assert answers(kore_sandbox) == [("status", 200), ("play", 200)]
    admin.force_status(waited[0], "Completed")
    event = triggerer.run(triggers[0], timeout=30)
    assert event["status"] == "success"
    add_figures(
        TITLE,
        [
            ("secret rotated: requests that end 10 deferred waits (one shared poller)", "2, both 401"),
            ("secret rotated: requests for one start / one sensor poke", "2 / 2, all 401; nothing played"),
            ("secret rotated: requests for a stop task with retries=2", "6 (2 a try), no back-off"),
            ("secret restored: the same waits and start work again", "yes"),
        ],
    )


def test_an_expired_token_is_reminted_once_and_the_call_succeeds(
    kore_sandbox: SandboxServer, triggerer: Triggerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first token of each hook is minted with a clock an hour and a minute behind: the client
    believes it good for an hour, the server finds it expired."""
    minters: weakref.WeakSet[TokenMinter] = weakref.WeakSet()
    mint = TokenMinter._mint

    def late_mint(self: TokenMinter, now: float, *, with_jti: bool) -> str:
        first = self not in minters
        minters.add(self)
        return mint(self, now - (self._settings.token_ttl_seconds + 60 if first else 0), with_jti=with_jti)

    monkeypatch.setattr(TokenMinter, "_mint", late_mint)
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Active", complete_in_seconds=2.0)

    hook = CampaignHook()
    for _ in range(2):
        assert hook.get_campaign_status(campaign_id) in ("Active", "Completed")
    assert answers(kore_sandbox) == [("status", 401), ("status", 200), ("status", 200)]

    admin.clear_requests()
    event = triggerer.run(
        CampaignStatusTrigger(campaign_id=campaign_id, target_statuses=["Completed"], poll_interval=0.3),
        timeout=30,
    )
    assert event["status"] == "success"
    statuses = [status for _, status in answers(kore_sandbox)]
    assert statuses[:2] == [401, 200]
    assert set(statuses[2:]) <= {200}
    add_figures(
        TITLE, [("expired token: requests for the first call, worker / triggerer", "2 / 2 (401, then 200)")]
    )


def test_enforced_jti_switched_on_mid_run_costs_one_refusal_a_call_until_the_connection_says_so(
    kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, minted: list[str]
) -> None:
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Ready")
    hook = CampaignHook()
    hook.get_campaign_status(campaign_id)
    admin.update_config(enforce_jti=True)
    admin.clear_requests()
    for _ in range(3):
        assert hook.get_campaign_status(campaign_id) == "Ready"
    # The reused token carries no jti, so each call is refused once, then sent with a one-time token.
    assert [status for _, status in answers(kore_sandbox)] == [401, 200] * 3

    connection = json.loads(kore_sandbox.connection_json())
    connection["extra"]["enforce_jti"] = True
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", json.dumps(connection))
    admin.clear_requests()
    before = len(minted)
    hook = CampaignHook()
    for _ in range(3):
        assert hook.get_campaign_status(campaign_id) == "Ready"
    assert [status for _, status in answers(kore_sandbox)] == [200] * 3
    assert len(minted) - before == 3
    jtis = [jwt.decode(token, options={"verify_signature": False}).get("jti") for token in minted]
    assert len(set(filter(None, jtis))) == len(list(filter(None, jtis))) == 6  # no jti twice
    add_figures(
        TITLE, [("enforce-jti switched on: 401s in 3 calls, before / after the connection says so", "3 / 0")]
    )


def _wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.05)
