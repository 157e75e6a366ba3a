"""CampaignHook against mocked HTTP: exact requests, auth, retries, errors."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
import responses

from airflow_campaign_provider import __version__
from airflow_campaign_provider import clock as clock_module
from airflow_campaign_provider.api import RetryPolicy
from airflow_campaign_provider.exceptions import (
    CampaignApiError,
    CampaignAuthError,
    CampaignConnectionConfigError,
    CampaignNotFoundError,
    CampaignOutcomeUnknownError,
    CampaignResponseError,
    CampaignServerError,
    CampaignTransportError,
    CampaignValidationError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.hooks.campaign import DEFAULT_TIMEOUT, CampaignHook

from .conftest import ACCOUNT_ID, BASE, CLIENT_ID, CLIENT_SECRET, HOST, STREAM_ID, connection_json

CAMPAIGN_ID = "cd-e7110489-a30a-5d1e-80ee-f246cc800000"
CAMPAIGN = {"_id": CAMPAIGN_ID, "name": "Spring", "lname": "spring", "status": "Ready"}
GET_ANSWER = {"status": "success", "message": "Campaign Spring retrieved successfully", "data": CAMPAIGN}


def _query(call: responses.Call) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(call.request.url).query))


def _path(call: responses.Call) -> str:
    return urlsplit(call.request.url).path


def _claims(call: responses.Call) -> dict[str, object]:
    return jwt.decode(call.request.headers["auth"], CLIENT_SECRET, algorithms=["HS256"])


# --- the exact requests ----------------------------------------------------------------------

EXACT_CALLS = [
    pytest.param(
        lambda h: h.create_sms_campaign({"name": "Spring"}),
        "POST",
        BASE,
        {"accountId": ACCOUNT_ID, "campaignType": "sms"},
        {"name": "Spring"},
        CAMPAIGN,
        id="create",
    ),
    pytest.param(
        lambda h: h.get_campaign(CAMPAIGN_ID),
        "GET",
        f"{BASE}/{CAMPAIGN_ID}",
        {"accountId": ACCOUNT_ID},
        None,
        GET_ANSWER,
        id="get",
    ),
    pytest.param(
        lambda h: h.get_campaign_status(CAMPAIGN_ID),
        "POST",
        f"{BASE}/{CAMPAIGN_ID}/status",
        {"accountId": ACCOUNT_ID, "view": "status"},
        {},
        {"status": "success", "data": {"id": CAMPAIGN_ID, "status": "Active", "name": "Spring"}},
        id="status",
    ),
    pytest.param(
        lambda h: h.start_campaign(CAMPAIGN_ID),
        "POST",
        f"{BASE}/{CAMPAIGN_ID}",  # the SMS start page's path: no /trigger/
        {"accountId": ACCOUNT_ID, "campaignType": "sms", "trigger": "play"},
        {},
        {"status": "Active", "message": "Campaign Started", "updatedAt": "2025-12-05T12:07:54.225Z"},
        id="start",
    ),
    pytest.param(
        lambda h: h.stop_campaign(CAMPAIGN_ID, "voice"),
        "POST",
        f"{HOST}/api/v2/public/{STREAM_ID}/campaign/trigger/{CAMPAIGN_ID}",  # the voice page's path
        {"accountId": ACCOUNT_ID, "campaignType": "voice", "trigger": "stop"},
        {},
        {"status": "Stopped", "message": "Campaign Stopped", "campaignExecutionType": "NORMAL"},
        id="stop",
    ),
    pytest.param(
        lambda h: h.delete_campaign(CAMPAIGN_ID),
        "DELETE",
        f"{BASE}/{CAMPAIGN_ID}",
        {"accountId": ACCOUNT_ID, "campaignType": "sms"},
        None,
        {"status": "success", "message": "Campaign Spring deleted successfully", "data": CAMPAIGN},
        id="delete-sms",
    ),
    pytest.param(
        lambda h: h.delete_campaign(CAMPAIGN_ID, "voice"),
        "DELETE",
        f"{BASE}/{CAMPAIGN_ID}",
        {"accountId": ACCOUNT_ID, "campaignType": "voice"},
        None,
        {"status": "success", "message": "deleted", "data": {**CAMPAIGN, "_id": None, "id": CAMPAIGN_ID}},
        id="delete-voice",
    ),
    pytest.param(
        lambda h: h.list_campaigns_page("sms", ["Active", "Ready"], page=2, page_size=10),
        "POST",
        f"{BASE}/getAllCampaignDetails",
        {"accountId": ACCOUNT_ID},
        {"type": "sms", "limit": 10, "skip": 10, "page": 2, "filters": {"status": ["Active", "Ready"]}},
        {"status": "success", "data": {"results": [], "hasMore": False, "totalPages": 2, "totalResults": 10}},
        id="list",
    ),
]


@pytest.mark.parametrize(("call", "method", "url", "query", "body", "answer"), EXACT_CALLS)
def test_each_call_sends_the_documented_request(hook, mocked, call, method, url, query, body, answer):
    mocked.add(method, url, json=answer)

    call(hook)

    assert len(mocked.calls) == 1
    sent = mocked.calls[0]
    assert sent.request.method == method
    assert f"{urlsplit(url).scheme}://{urlsplit(url).netloc}{_path(sent)}" == url  # the double slash survives
    assert _query(sent) == query
    headers = sent.request.headers
    assert headers["iid"] == STREAM_ID
    assert headers["accountId"] == ACCOUNT_ID
    assert headers["User-Agent"] == f"airflow-campaign-provider/{__version__}"
    assert "Authorization" not in headers
    assert _claims(sent)["appId"] == CLIENT_ID
    if body is None:
        assert sent.request.body is None
    else:
        assert json.loads(sent.request.body) == body
        assert headers["Content-Type"] == "application/json"
    assert sent.request.req_kwargs["timeout"] == DEFAULT_TIMEOUT


def test_parsed_results(hook, mocked):
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)
    mocked.add(
        "POST", f"{BASE}/{CAMPAIGN_ID}/status", json={"status": "success", "data": {"status": "Active"}}
    )
    mocked.add("POST", BASE, json={"status": "success", "data": CAMPAIGN})  # wrapped create answer

    assert hook.get_campaign(CAMPAIGN_ID) == CAMPAIGN
    assert hook.get_campaign_status(CAMPAIGN_ID) == "Active"
    assert hook.create_sms_campaign({"name": "Spring"})["_id"] == CAMPAIGN_ID


# --- the JWT ---------------------------------------------------------------------------------


def test_jwt_is_hs256_with_documented_claims_and_minted_once_for_many_calls(hook, mocked):
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)
    for _ in range(5):
        hook.get_campaign(CAMPAIGN_ID)

    tokens = {call.request.headers["auth"] for call in mocked.calls}
    assert len(tokens) == 1
    token = tokens.pop()
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, CLIENT_SECRET, algorithms=["HS256"])
    assert claims["appId"] == CLIENT_ID
    assert claims["sub"]
    assert "jti" not in claims  # a reused token carries none: Kore refuses a jti seen before
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-at-least-32-bytes!", algorithms=["HS256"])


def test_enforced_jti_mints_a_fresh_token_per_request(monkeypatch, sleeps, mocked):
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json(extra={"enforce_jti": True}))
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)
    hook = CampaignHook()
    for _ in range(3):
        hook.get_campaign(CAMPAIGN_ID)

    jtis = [_claims(call)["jti"] for call in mocked.calls]
    assert len(set(jtis)) == 3


def test_cached_token_is_replaced_shortly_before_it_expires(hook, mocked, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(clock_module, "wall", lambda: clock[0])
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)

    hook.get_campaign(CAMPAIGN_ID)
    clock[0] += 3600 - 120  # still two minutes to go: reused
    hook.get_campaign(CAMPAIGN_ID)
    clock[0] += 90  # inside the refresh margin: replaced
    hook.get_campaign(CAMPAIGN_ID)

    tokens = [call.request.headers["auth"] for call in mocked.calls]
    assert tokens[0] == tokens[1] != tokens[2]


def test_401_remints_the_token_once_then_succeeds(hook, mocked):
    mocked.add(
        "GET", f"{BASE}/{CAMPAIGN_ID}", status=401, json={"errors": [{"msg": "token expired", "code": 4002}]}
    )
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)

    assert hook.get_campaign(CAMPAIGN_ID)["_id"] == CAMPAIGN_ID
    first, second = (call.request.headers["auth"] for call in mocked.calls)
    assert first != second


def test_401_twice_is_an_auth_error_without_a_retry_storm(hook, mocked, sleeps):
    body = {"errors": [{"msg": "Permission denied. Scope is incorrect!", "code": 4002}]}
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", status=401, json=body)

    with pytest.raises(CampaignAuthError, match="Scope is incorrect") as caught:
        hook.get_campaign(CAMPAIGN_ID)

    assert len(mocked.calls) == 2
    assert sleeps == []
    assert caught.value.status_code == 401
    assert caught.value.kore_code == 4002


# --- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retries_429_and_5xx_honouring_retry_after(hook, mocked, sleeps, status):
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", status=status, json={}, headers={"Retry-After": "7"})
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)

    assert hook.get_campaign(CAMPAIGN_ID) == CAMPAIGN
    assert len(mocked.calls) == 2
    assert len(sleeps) == 1
    assert 7 <= sleeps[0] <= 7.25


def test_rate_limit_without_retry_after_backs_off_across_the_window(hook, mocked, sleeps):
    limited = {"errors": [{"msg": "You've exceeded the per-minute rate limit", "code": 429}]}
    for _ in range(3):
        mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", status=429, json=limited)
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)

    assert hook.get_campaign(CAMPAIGN_ID) == CAMPAIGN
    assert len(sleeps) == 3
    assert 11 <= sleeps[0] <= 15  # a quarter of the 60 s window, jittered
    assert sleeps[0] < sleeps[2] <= 60
    assert sum(sleeps) >= 60 * 0.75  # three tries span most of the window


def test_rate_limit_text_on_another_status_is_retried(hook, mocked, sleeps):
    mocked.add(
        "GET",
        f"{BASE}/{CAMPAIGN_ID}",
        status=400,
        json={"message": "You've exceeded the per-minute rate limit"},
    )
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)

    assert hook.get_campaign(CAMPAIGN_ID) == CAMPAIGN
    assert len(sleeps) == 1


def test_5xx_without_retry_after_uses_exponential_backoff_with_jitter(hook, mocked, sleeps):
    for _ in range(4):
        mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", status=503, body="upstream unavailable")
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)

    assert hook.get_campaign(CAMPAIGN_ID) == CAMPAIGN
    assert len(sleeps) == 4
    for attempt, slept in enumerate(sleeps, start=1):
        ceiling = 2 ** (attempt - 1)
        assert ceiling / 2 <= slept <= ceiling


def test_retries_stop_after_the_policy_limit(kore_connection, sleeps, mocked):
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", status=502, json={"errors": [{"msg": "bad gateway"}]})
    hook = CampaignHook(retry_policy=RetryPolicy(max_attempts=3))

    with pytest.raises(CampaignServerError, match="bad gateway"):
        hook.get_campaign(CAMPAIGN_ID)
    assert len(mocked.calls) == 3
    assert len(sleeps) == 2


def test_412_is_not_retried_and_quotes_every_kore_message(hook, mocked, sleeps):
    errors = {"errors": [{"msg": "name: max 48 characters", "code": 4120}, {"message": "priority: 1..5"}]}
    mocked.add("POST", BASE, status=412, json=errors)

    with pytest.raises(CampaignValidationError) as caught:
        hook.create_sms_campaign({"name": "x" * 60})

    assert len(mocked.calls) == 1
    assert sleeps == []
    text = str(caught.value)
    assert "name: max 48 characters" in text
    assert "priority: 1..5" in text
    assert "HTTP 412" in text
    assert f"POST /campaign/api/v2/public/{STREAM_ID}/campaign" in text
    assert ACCOUNT_ID not in text  # the query is left out of messages


@pytest.mark.parametrize("spelling", ["msg", "message"])
def test_both_error_body_spellings_are_quoted(hook, mocked, spelling):
    mocked.add(
        "GET", f"{BASE}/{CAMPAIGN_ID}", status=404, json={"errors": [{spelling: "Campaign not found"}]}
    )

    with pytest.raises(CampaignNotFoundError, match="Campaign not found"):
        hook.get_campaign(CAMPAIGN_ID)


def test_timeouts_are_always_passed(kore_connection, mocked):
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)
    CampaignHook(timeout=4.5).get_campaign(CAMPAIGN_ID)
    assert mocked.calls[0].request.req_kwargs["timeout"] == (4.5, 4.5)
    # No single wait outlasts the attempt's deadline: a connect in progress has no socket to cut.
    CampaignHook(timeout=(90, 120), retry_policy=RetryPolicy(max_attempt_seconds=60)).get_campaign(
        CAMPAIGN_ID
    )
    assert mocked.calls[1].request.req_kwargs["timeout"] == (60, 60)
    with pytest.raises(ValueError, match="timeout"):
        CampaignHook(timeout=None)  # type: ignore[arg-type]


def test_read_timeout_on_a_get_is_retried(hook, mocked, sleeps):
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", body=requests.ReadTimeout("read timed out"))
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)

    assert hook.get_campaign(CAMPAIGN_ID) == CAMPAIGN
    assert len(sleeps) == 1


def test_create_is_never_replayed_after_an_ambiguous_failure(hook, mocked, sleeps):
    mocked.add("POST", BASE, body=requests.ConnectionError("Connection aborted: RemoteDisconnected"))
    mocked.add("POST", BASE, json=CAMPAIGN)

    with pytest.raises(CampaignOutcomeUnknownError) as caught:
        hook.create_sms_campaign({"name": "Spring"})

    assert len(mocked.calls) == 1
    assert caught.value.request_sent
    assert sleeps == []


def test_create_is_not_replayed_after_a_5xx(hook, mocked, sleeps):
    mocked.add("POST", BASE, status=504, body="gateway timeout")

    with pytest.raises(CampaignServerError):
        hook.create_sms_campaign({"name": "Spring"})
    assert len(mocked.calls) == 1


def test_create_is_retried_when_kore_refused_it_for_the_rate_limit(hook, mocked, sleeps):
    mocked.add("POST", BASE, status=429, json={}, headers={"Retry-After": "1"})
    mocked.add("POST", BASE, json=CAMPAIGN)

    assert hook.create_sms_campaign({"name": "Spring"}) == CAMPAIGN
    assert len(mocked.calls) == 2


def test_start_is_not_replayed_after_a_read_timeout(hook, mocked, sleeps):
    mocked.add("POST", f"{BASE}/{CAMPAIGN_ID}", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(CampaignOutcomeUnknownError):
        hook.start_campaign(CAMPAIGN_ID)
    assert len(mocked.calls) == 1


def test_connection_refused_is_retried_even_for_create(kore_connection, sleeps):
    """Nothing listens on the port, so Kore surely never saw the request."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    import os

    os.environ["AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT"] = connection_json(host=f"http://127.0.0.1:{port}")
    hook = CampaignHook(retry_policy=RetryPolicy(max_attempts=3))
    with pytest.raises(CampaignTransportError) as caught:
        hook.create_sms_campaign({"name": "Spring"})
    assert not isinstance(caught.value, CampaignOutcomeUnknownError)
    assert not caught.value.request_sent
    assert len(sleeps) == 2


# --- answers that are not usable -------------------------------------------------------------


def test_an_answer_that_is_not_json_names_the_problem(hook, mocked):
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", body="<html>maintenance</html>")

    with pytest.raises(CampaignResponseError, match="not JSON"):
        hook.get_campaign(CAMPAIGN_ID)


@pytest.mark.parametrize(
    ("call", "method", "url", "answer", "missing"),
    [
        (
            lambda h: h.get_campaign(CAMPAIGN_ID),
            "GET",
            f"{BASE}/{CAMPAIGN_ID}",
            {"data": {"name": "x"}},
            "_id",
        ),
        (
            lambda h: h.get_campaign_status(CAMPAIGN_ID),
            "POST",
            f"{BASE}/{CAMPAIGN_ID}/status",
            {"status": "success", "data": {}},
            "data.status",
        ),
        (
            lambda h: h.stop_campaign(CAMPAIGN_ID),
            "POST",
            f"{BASE}//trigger/{CAMPAIGN_ID}",
            {"ok": 1},
            "status",
        ),
        (
            lambda h: h.list_campaigns_page(),
            "POST",
            f"{BASE}/getAllCampaignDetails",
            {"status": "success"},
            "data.results",
        ),
    ],
)
def test_an_answer_lacking_a_field_names_it(hook, mocked, call, method, url, answer, missing):
    mocked.add(method, url, json=answer)

    with pytest.raises(CampaignResponseError, match=missing):
        call(hook)


def test_an_api_level_failure_status_is_an_error(hook, mocked):
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json={"status": "failure", "message": "campaign is archived"})

    with pytest.raises(CampaignApiError, match="campaign is archived"):
        hook.get_campaign(CAMPAIGN_ID)


# --- listing, lookup, test_connection --------------------------------------------------------


def _page(results, has_more, total_pages=None):
    return {
        "status": "success",
        "data": {"results": results, "hasMore": has_more, "totalPages": total_pages, "totalResults": 5},
    }


def test_iter_campaigns_pages_until_has_more_is_false(hook, mocked):
    url = f"{BASE}/getAllCampaignDetails"
    mocked.add("POST", url, json=_page([{"_id": "cd-1"}, {"_id": "cd-2"}], True))
    mocked.add("POST", url, json=_page([{"_id": "cd-3"}, {"_id": "cd-4"}], True))
    mocked.add("POST", url, json=_page([{"_id": "cd-5"}], False))

    ids = [c["_id"] for c in hook.iter_campaigns("sms", ["Active"], page_size=2)]

    assert ids == ["cd-1", "cd-2", "cd-3", "cd-4", "cd-5"]
    assert [json.loads(c.request.body)["page"] for c in mocked.calls] == [1, 2, 3]
    assert [json.loads(c.request.body)["skip"] for c in mocked.calls] == [0, 2, 4]


def test_find_campaign_by_name_is_case_insensitive(hook, mocked):
    mocked.add(
        "POST",
        f"{BASE}/getAllCampaignDetails",
        json=_page(
            [
                {"_id": "cd-1", "name": "Other"},
                {"_id": "cd-2", "name": "Spring Sale", "lname": "spring sale"},
            ],
            False,
        ),
    )
    assert hook.find_campaign_by_name("SPRING sale")["_id"] == "cd-2"
    assert hook.find_campaign_by_name("missing") is None


def test_test_connection_makes_a_real_authenticated_call(hook, mocked):
    mocked.add("POST", f"{BASE}/getAllCampaignDetails", json=_page([], False))
    ok, message = hook.test_connection()
    assert ok
    assert ACCOUNT_ID in message
    assert "auth" in mocked.calls[0].request.headers


def test_test_connection_reports_kore_refusal(hook, mocked):
    mocked.add(
        "POST",
        f"{BASE}/getAllCampaignDetails",
        status=401,
        json={"errors": [{"msg": "Permission denied. Scope is incorrect!", "code": 4002}]},
    )
    ok, message = hook.test_connection()
    assert not ok
    assert "Scope is incorrect" in message


# --- local validation before any HTTP --------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["", "   ", None, "a/b", "cd 1", 42])
def test_bad_campaign_ids_are_refused_before_http(hook, mocked, bad_id):
    with pytest.raises(InvalidCampaignArgumentError, match="campaign_id"):
        hook.get_campaign(bad_id)
    assert len(mocked.calls) == 0


def test_bad_campaign_type_is_refused_before_http(hook, mocked):
    with pytest.raises(
        InvalidCampaignArgumentError, match=r"campaign_type: must be one of \['sms', 'voice'\]"
    ):
        hook.delete_campaign(CAMPAIGN_ID, "email")
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"host": ""}, "host"),
        ({"host": "ftp://kore"}, "host"),
        ({"login": ""}, "login"),
        ({"password": None}, "password"),
        ({"extra": {"account_id": ""}}, "extra.account_id"),
        ({"extra": {"stream_id": None}}, "extra.stream_id"),
        ({"extra": {"jwt_lifetime_seconds": 7200}}, "extra.jwt_lifetime_seconds"),
        ({"extra": {"jwt_lifetime_seconds": "soon"}}, "extra.jwt_lifetime_seconds"),
        ({"extra": {"enforce_jti": "maybe"}}, "extra.enforce_jti"),
        ({"extra": {"trigger_path": "/trigger"}}, "extra.trigger_path"),
        ({"extra": {"requests_per_minute": 0}}, "extra.requests_per_minute"),
    ],
)
def test_a_bad_connection_names_the_field(monkeypatch, mocked, overrides, field):
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json(**overrides))
    with pytest.raises(CampaignConnectionConfigError, match=f"Kore.ai connection field {field}"):
        CampaignHook().get_campaign(CAMPAIGN_ID)
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("platform.kore.ai", "https://platform.kore.ai"),
        ("https://de-platform.kore.ai/", "https://de-platform.kore.ai"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_host_forms(monkeypatch, host, expected):
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json(host=host))
    settings = CampaignHook().settings
    assert settings.base_url == expected
    assert settings.iid == STREAM_ID  # iid defaults to the stream id


@pytest.mark.parametrize(
    ("extra", "lifetime"),
    [
        ({}, 3600),
        ({"jwt_lifetime_seconds": 600}, 600),
        ({"token_ttl_seconds": 900}, 900),  # the key's name in 0.1.0
        ({"token_ttl_seconds": "***", "jwt_lifetime_seconds": 600}, 600),  # a form saved in 0.1.0
    ],
)
def test_the_jwt_lifetime_reads_the_new_key_then_the_old_one(monkeypatch, extra, lifetime):
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json(extra=extra))
    assert CampaignHook().settings.token_ttl_seconds == lifetime


def test_iid_can_differ_from_the_stream_id(monkeypatch, mocked):
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json(extra={"iid": "st-other"}))
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)
    CampaignHook().get_campaign(CAMPAIGN_ID)
    assert mocked.calls[0].request.headers["iid"] == "st-other"


def test_the_client_secret_is_not_in_the_settings_repr(hook):
    assert CLIENT_SECRET not in repr(hook.settings)


def test_one_hook_shared_by_threads_retries_each_call_on_its_own(hook, mocked, sleeps):
    """The hook builds its retriers once; mapped tasks may share it across threads.

    Each thread's own requests alternate 503, 200: a parity shared by all threads would let the
    scheduling (the budget slot reorders threads) hand one call six 503s in a row.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    sent_by_this_thread = threading.local()

    def flaky(request):
        number = getattr(sent_by_this_thread, "count", 0)
        sent_by_this_thread.count = number + 1
        if number % 2 == 0:
            return 503, {}, json.dumps({"errors": [{"msg": "busy"}]})
        return 200, {}, json.dumps(GET_ANSWER)

    mocked.add_callback("GET", f"{BASE}/{CAMPAIGN_ID}", callback=flaky)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: hook.get_campaign(CAMPAIGN_ID), range(40)))

    assert all(result == CAMPAIGN for result in results)
    assert len(sleeps) == 40  # every call retried its own 503 once, no more
    assert len(mocked.calls) == 80


def test_the_total_retry_bound_counts_the_first_attempt_too(kore_connection, sleeps, mocked):
    """The first attempt goes out before the retrier is involved; its time still counts toward
    ``max_total_seconds``, so a slow first failure past the bound is not retried."""
    import time

    def slow_failure(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        time.sleep(0.3)
        raise requests.ConnectionError("connection reset")

    mocked.add_callback("GET", f"{BASE}/{CAMPAIGN_ID}", callback=slow_failure)
    hook = CampaignHook(retry_policy=RetryPolicy(max_attempts=5, max_total_seconds=0.2))
    with pytest.raises(CampaignTransportError):
        hook.get_campaign(CAMPAIGN_ID)
    assert len(mocked.calls) == 1
    assert sleeps == []


def test_a_first_attempt_that_fails_is_judged_and_retried_as_any_other(
    kore_connection, sleeps, mocked, caplog
):
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", body=requests.ConnectionError("connection reset"))
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", body=requests.ConnectionError("connection reset"))
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json=GET_ANSWER)
    hook = CampaignHook(retry_policy=RetryPolicy(max_attempts=3))
    assert hook.get_campaign(CAMPAIGN_ID) == CAMPAIGN
    assert len(mocked.calls) == 3
    assert len(sleeps) == 2  # a back-off after the first failure and after the second
