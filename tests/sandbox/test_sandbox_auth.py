"""Auth as Kore.ai does it: the JWT in `auth`, plus `iid` and `accountId`; 401 code 4002 otherwise."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
import jwt
import pytest

from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer
from tests.sandbox.testkit import KoreClient, error_messages

if TYPE_CHECKING:
    from collections.abc import Callable

OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256"


def _assert_denied(answer: httpx.Response, reason: str, token: str | None = None) -> None:
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert body["errors"][0]["code"] == 4002
    message = error_messages(answer)[0]
    assert message.startswith("Permission denied.")
    assert reason in message
    if token:
        assert token not in answer.text


def _token_cases(kore: KoreClient) -> dict[str, tuple[str, str]]:
    """name -> (token, expected words in the refusal)"""
    now = int(time.time())
    sandbox = kore.sandbox
    return {
        "bad signature": (kore.token(secret=OTHER_SECRET), "signature"),
        "not a jwt": ("not.a.jwt", "well-formed"),
        "garbage": ("%%%", "well-formed"),
        "HS512": (
            jwt.encode({"appId": sandbox.client_id}, sandbox.client_secret + "x" * 40, algorithm="HS512"),
            "HS256",
        ),
        "unsigned": (jwt.encode({"appId": sandbox.client_id}, "", algorithm="none"), "HS256"),
        "wrong appId": (kore.token(appId="cs-someone-else"), "appId"),
        "no appId": (kore.token(appId=None), "appId"),
        "expired": (kore.token(exp=now - 60), "expired"),
        "not yet valid": (kore.token(nbf=now + 600), "not valid yet"),
        "exp not a number": (kore.token(exp="tomorrow"), "invalid"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "bad signature",
        "not a jwt",
        "garbage",
        "HS512",
        "unsigned",
        "wrong appId",
        "no appId",
        "expired",
        "not yet valid",
        "exp not a number",
    ],
)
def test_bad_tokens_are_refused(kore: KoreClient, case: str) -> None:
    token, reason = _token_cases(kore)[case]

    _assert_denied(
        kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": token}), reason, token
    )


@pytest.mark.parametrize(
    ("headers", "params", "reason"),
    [
        ({"auth": None}, {}, "auth header"),
        ({"iid": None}, {}, "iid header is missing"),
        ({"iid": "st-someone-else"}, {}, "iid header does not match"),
        ({"accountId": None}, {}, "accountId header is missing"),
        ({"accountId": "0" * 24}, {}, "accountId header"),
        ({}, {"accountId": None}, "accountId query parameter is missing"),
        ({}, {"accountId": "0" * 24}, "accountId query parameter"),
    ],
    ids=[
        "no auth",
        "no iid",
        "wrong iid",
        "no accountId header",
        "wrong accountId header",
        "no accountId query",
        "wrong accountId query",
    ],
)
def test_missing_or_wrong_headers_are_refused(
    kore: KoreClient, headers: dict[str, str | None], params: dict[str, str], reason: str
) -> None:
    answer = kore.call("POST", "/getAllCampaignDetails", json={}, headers=headers, params=params)

    _assert_denied(answer, reason)


def test_wrong_stream_in_the_path_is_refused(kore: KoreClient) -> None:
    answer = kore.http.post(
        "/campaign/api/v2/public/st-other/campaign/getAllCampaignDetails",
        params={"accountId": kore.sandbox.account_id},
        headers=kore.headers(),
        json={},
    )

    _assert_denied(answer, "streamId")


@pytest.mark.parametrize(
    "make_token",
    [
        lambda kore: kore.token(exp=int(time.time()) + 3600, iat=int(time.time()), jti=None),
        lambda kore: kore.token(jti=None),
        lambda kore: jwt.encode({"appId": kore.sandbox.client_id, "sub": "x"}, kore.sandbox.client_secret),
    ],
    ids=["exp and iat", "no jti", "kore's own sample claims"],  # a token with a jti is good once
)
def test_good_tokens_are_accepted(kore: KoreClient, make_token: Callable[[KoreClient], str]) -> None:
    token = make_token(kore)
    for _ in range(2):  # a reused token is fine while Enforce JTI is off
        assert (
            kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": token}).status_code == 200
        )


def test_a_cached_token_still_expires(kore: KoreClient) -> None:
    kore.sandbox.admin.update_config(jwt_leeway_seconds=0)
    token = kore.token(exp=time.time() + 1.0, jti=None)  # float exp: PyJWT accepts it
    assert kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": token}).status_code == 200

    time.sleep(1.1)

    _assert_denied(kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": token}), "expired")


def _refused_with(answer: httpx.Response, kore_text: str) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json() == {"errors": [{"msg": kore_text, "code": 401}]}


@pytest.mark.parametrize("enforce_jti", [False, True], ids=["jti optional", "enforce jti"])
def test_kore_jti_rules_apply_to_every_token_with_a_jti(kore: KoreClient, enforce_jti: bool) -> None:
    kore.sandbox.admin.update_config(enforce_jti=enforce_jti)
    token = kore.token(jti="only-once")
    replay = "error verifying the jwt: possibly a replay"

    assert kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": token}).status_code == 200
    _refused_with(kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": token}), replay)
    again = kore.token(jti="only-once", sub="a different token string, same jti")
    _refused_with(kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": again}), replay)
    kore_jti = kore.token(jti=None, kore_jti="kore-only-once")
    assert kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": kore_jti}).status_code == 200
    _refused_with(kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": kore_jti}), replay)
    now = int(time.time())
    too_long = kore.token(iat=now, exp=now + 3601)
    _refused_with(
        kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": too_long}),
        'error verifying the jwt: if "jti" claim "exp" must be <= 1 hour(s)',
    )
    one_hour = kore.token(iat=now, exp=now + 3600)
    assert kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": one_hour}).status_code == 200
    assert kore.list().status_code == 200  # a fresh jti each call passes


def test_enforce_jti_refuses_a_token_without_jti(kore: KoreClient) -> None:
    kore.sandbox.admin.update_config(enforce_jti=True)
    _assert_denied(
        kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": kore.token(jti=None)}), "jti"
    )


def test_secret_rotation(kore: KoreClient) -> None:
    old_token = kore.token()
    sandbox = kore.sandbox

    sandbox.admin.update_config(client_secret=OTHER_SECRET)

    assert sandbox.client_secret == OTHER_SECRET
    assert OTHER_SECRET in sandbox.connection_json()
    _assert_denied(
        kore.call("POST", "/getAllCampaignDetails", json={}, headers={"auth": old_token}), "signature"
    )
    assert kore.list().status_code == 200


def test_admin_needs_no_token(kore_sandbox: SandboxServer) -> None:
    assert httpx.get(f"{kore_sandbox.url}/_sandbox/health").json() == {"status": "ok"}


def test_a_separate_iid() -> None:
    config = SandboxConfig(iid="st-application-id", rate_limit_per_window=None)
    with SandboxServer(config) as sandbox:
        client = KoreClient(sandbox)
        assert sandbox.connection()["extra"]["iid"] == "st-application-id"
        assert client.list().status_code == 200
        _assert_denied(
            client.call("POST", "/getAllCampaignDetails", headers={"iid": sandbox.stream_id}), "iid"
        )
        client.close()
