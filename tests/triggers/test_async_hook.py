"""CampaignAsyncHook against mocked HTTP: the same requests, auth, errors and retries as the sync hook."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

import httpx
import jwt
import pytest
import respx

from airflow_campaign_provider.api import RetryPolicy
from airflow_campaign_provider.exceptions import (
    CampaignAuthError,
    CampaignNotFoundError,
    CampaignRateLimitError,
    CampaignServerError,
    CampaignTransportError,
)
from airflow_campaign_provider.hooks.campaign_async import CampaignAsyncHook
from airflow_campaign_provider.triggers.budget import TokenBucket
from tests.hooks.conftest import ACCOUNT_ID, BASE, CLIENT_ID, CLIENT_SECRET, STREAM_ID

from .conftest import FAST_RETRIES, LIST_URL, page_answer, request_body, status_answer

CAMPAIGN_ID = "cd-e7110489-a30a-5d1e-80ee-f246cc800000"
STATUS = f"{BASE}/{CAMPAIGN_ID}/status"


@pytest.fixture
async def hook(kore_connection: None, backoffs: list[float]) -> CampaignAsyncHook:
    campaign_hook = CampaignAsyncHook(retry_policy=FAST_RETRIES)
    yield campaign_hook
    await campaign_hook.aclose()


async def test_status_call_is_the_documented_request(hook, kore):
    route = kore.post(STATUS).mock(return_value=status_answer(CAMPAIGN_ID, "Active"))

    assert await hook.get_campaign_status(CAMPAIGN_ID) == "Active"

    request = route.calls.last.request
    assert dict(parse_qsl(request.url.query.decode())) == {"accountId": ACCOUNT_ID, "view": "status"}
    assert request_body(request) == {}
    assert request.headers["iid"] == STREAM_ID
    assert request.headers["accountId"] == ACCOUNT_ID
    assert request.headers["Content-Type"] == "application/json"
    assert "authorization" not in request.headers
    claims = jwt.decode(request.headers["auth"], CLIENT_SECRET, algorithms=["HS256"])
    assert claims["appId"] == CLIENT_ID


async def test_list_page_sends_the_filter_and_parses_the_page(hook, kore):
    campaigns = [{"_id": f"cd-{n}", "status": "Active"} for n in range(3)]
    route = kore.post(LIST_URL).mock(return_value=page_answer(campaigns, 0, 2))

    page = await hook.list_campaigns_page("voice", ["Active", "Completed"], page=1, page_size=2)

    assert [c["_id"] for c in page.results] == ["cd-0", "cd-1"]
    assert (page.has_more, page.total_pages, page.total_results) == (True, 2, 3)
    assert request_body(route.calls.last.request) == {
        "type": "voice",
        "limit": 2,
        "skip": 0,
        "page": 1,
        "filters": {"status": ["Active", "Completed"]},
    }


async def test_the_connection_is_never_read_with_the_blocking_lookup(hook, kore, monkeypatch):
    def blocking(*args: object, **kwargs: object) -> None:
        raise AssertionError("the sync connection lookup ran on the event loop")

    monkeypatch.setattr(CampaignAsyncHook, "get_connection", classmethod(blocking))
    kore.post(STATUS).mock(return_value=status_answer(CAMPAIGN_ID, "Active"))
    assert await hook.get_campaign_status(CAMPAIGN_ID) == "Active"


async def test_minted_tokens_are_masked_asynchronously(hook, kore, monkeypatch):
    masked: list[object] = []

    async def amask(secret: object, name: str | None = None) -> None:
        masked.append(secret)

    monkeypatch.setattr("airflow.sdk.log.amask_secret", amask)
    route = kore.post(STATUS).mock(return_value=status_answer(CAMPAIGN_ID, "Active"))
    await hook.get_campaign_status(CAMPAIGN_ID)
    await hook.get_campaign_status(CAMPAIGN_ID)

    tokens = {call.request.headers["auth"] for call in route.calls}
    assert len(tokens) == 1
    assert CLIENT_SECRET in masked
    assert tokens <= {secret for secret in masked if isinstance(secret, str)}


async def test_401_remints_once_then_succeeds(hook, kore):
    route = kore.post(STATUS).mock(
        side_effect=[
            httpx.Response(401, json={"errors": [{"msg": "expired", "code": 4002}]}),
            status_answer(CAMPAIGN_ID, "Ready"),
        ]
    )
    assert await hook.get_campaign_status(CAMPAIGN_ID) == "Ready"
    first, second = (call.request.headers["auth"] for call in route.calls)
    assert first != second


async def test_401_twice_is_an_auth_error_without_retries(hook, kore, backoffs):
    route = kore.post(STATUS).mock(
        return_value=httpx.Response(401, json={"errors": [{"msg": "Scope is incorrect!", "code": 4002}]})
    )
    with pytest.raises(CampaignAuthError, match="Scope is incorrect"):
        await hook.get_campaign_status(CAMPAIGN_ID)
    assert route.call_count == 2
    assert backoffs == []


async def test_404_is_not_retried(hook, kore, backoffs):
    route = kore.post(STATUS).mock(
        return_value=httpx.Response(404, json={"errors": [{"msg": "no such campaign"}]})
    )
    with pytest.raises(CampaignNotFoundError):
        await hook.get_campaign_status(CAMPAIGN_ID)
    assert route.call_count == 1
    assert backoffs == []


@pytest.mark.parametrize("status", [429, 503])
async def test_429_and_5xx_are_retried_honouring_retry_after(hook, kore, backoffs, status):
    kore.post(STATUS).mock(
        side_effect=[
            httpx.Response(status, json={}, headers={"Retry-After": "7"}),
            status_answer(CAMPAIGN_ID, "Active"),
        ]
    )
    assert await hook.get_campaign_status(CAMPAIGN_ID) == "Active"
    assert len(backoffs) == 1
    assert 7 <= backoffs[0] <= 7.25


async def test_persistent_5xx_fails_after_the_policy_limit(hook, kore, backoffs):
    route = kore.post(STATUS).mock(return_value=httpx.Response(502, text="bad gateway"))
    with pytest.raises(CampaignServerError):
        await hook.get_campaign_status(CAMPAIGN_ID)
    assert route.call_count == FAST_RETRIES.max_attempts
    assert len(backoffs) == FAST_RETRIES.max_attempts - 1


@pytest.mark.parametrize(
    ("error", "sent"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow"), False),
        (httpx.ReadTimeout("slow"), True),
    ],
)
async def test_transport_errors_are_typed_and_retried(hook, kore, backoffs, error, sent):
    route = kore.post(STATUS).mock(side_effect=error)
    with pytest.raises(CampaignTransportError) as caught:
        await hook.get_campaign_status(CAMPAIGN_ID)
    assert caught.value.request_sent is sent
    assert route.call_count == FAST_RETRIES.max_attempts


async def test_a_rate_limited_answer_pauses_the_shared_budget(kore_connection, kore, backoffs):
    bucket = TokenBucket(60, 60.0)
    hook = CampaignAsyncHook(retry_policy=RetryPolicy(max_attempts=1), budget=bucket)
    kore.post(STATUS).mock(
        return_value=httpx.Response(
            429,
            json={"errors": [{"msg": "You've exceeded the per-minute rate limit"}]},
            headers={"Retry-After": "5"},
        )
    )
    with pytest.raises(CampaignRateLimitError):
        await hook.get_campaign_status(CAMPAIGN_ID)
    await hook.aclose()
    assert bucket.sent == 1
    bucket.max_wait_seconds = 0.05
    with pytest.raises(CampaignRateLimitError, match="no room in the budget"):
        await bucket.slot().__aenter__()


async def test_every_send_waits_for_a_budget_token(kore_connection, kore, backoffs):
    bucket = TokenBucket(2, 0.3)
    hook = CampaignAsyncHook(retry_policy=FAST_RETRIES, budget=bucket)
    route = kore.post(STATUS).mock(return_value=status_answer(CAMPAIGN_ID, "Active"))
    started = asyncio.get_running_loop().time()
    for _ in range(3):
        await hook.get_campaign_status(CAMPAIGN_ID)
    await hook.aclose()
    assert route.call_count == 3
    assert asyncio.get_running_loop().time() - started >= 0.3


def test_timeout_none_is_refused():
    with pytest.raises(ValueError, match="never None"):
        CampaignAsyncHook(timeout=None)  # type: ignore[arg-type]


async def test_the_hook_is_usable_after_closing(hook, kore):
    kore.post(STATUS).mock(return_value=status_answer(CAMPAIGN_ID, "Active"))
    await hook.get_campaign_status(CAMPAIGN_ID)
    await hook.aclose()
    assert await hook.get_campaign_status(CAMPAIGN_ID) == "Active"


@respx.mock(assert_all_called=False)
async def test_importing_created_no_client():
    import airflow_campaign_provider.hooks.campaign_async as module

    assert not any(isinstance(value, httpx.AsyncClient) for value in vars(module).values())


async def test_concurrent_first_calls_read_the_connection_once(hook, kore, monkeypatch):
    from airflow.providers.common.compat import connection as compat

    reads: list[str] = []
    real = compat.get_async_connection

    async def counting(conn_id: str, hook: object = None) -> object:
        reads.append(conn_id)
        return await real(conn_id, hook=hook)

    monkeypatch.setattr(compat, "get_async_connection", counting)
    kore.post(STATUS).mock(return_value=status_answer(CAMPAIGN_ID, "Active"))
    statuses = await asyncio.gather(*(hook.get_campaign_status(CAMPAIGN_ID) for _ in range(50)))
    assert statuses == ["Active"] * 50
    assert reads == ["kore_campaign_default"]
