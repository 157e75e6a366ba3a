"""Request authentication as Kore.ai does it: a raw HS256 JWT in the `auth` header plus the
`iid` and `accountId` headers (and the `accountId` query parameter and the path's stream id).

Verified tokens are cached by their string so that a client reusing one token costs a dict
lookup, not an HMAC; `exp` is still checked on every use and, with "Enforce JTI" on, every
`jti` is remembered and refused the second time.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import jwt

from airflow_campaign_provider.sandbox.errors import CODE_AUTH, KoreError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_campaign_provider.sandbox.config import SandboxConfig

_DENIED = "Permission denied."


def _deny(reason: str) -> KoreError:
    return KoreError(401, f"{_DENIED} {reason}", code=CODE_AUTH)


class TokenVerifier:
    """Checks the auth headers of Kore requests against a SandboxConfig."""

    def __init__(self, config: SandboxConfig, *, cache_size: int = 4096, jti_memory: int = 200_000) -> None:
        self._cache: OrderedDict[str, float] = OrderedDict()  # token -> exp (inf when none)
        self._used_jti: dict[str, float] = {}  # jti -> time after which it may be forgotten
        self._cache_size = cache_size
        self._jti_memory = jti_memory
        self.configure(config)

    def configure(self, config: SandboxConfig) -> None:
        """Apply new settings; a rotated secret or client id invalidates cached tokens."""
        self._config = config
        self._cache.clear()

    def forget_jti(self) -> None:
        """Forget every jti seen so far (a sandbox reset)."""
        self._used_jti.clear()

    def check(
        self,
        headers: Mapping[str, str],
        query_account: str | None,
        path_app: str,
        now: float,
        *,
        path_is_iid: bool = False,
    ) -> None:
        """Raise a 401 KoreError naming what is wrong with the request's credentials.

        ``path_app`` is the path's stream id, or with ``path_is_iid`` the iid that the v1
        addContacts path names (its documented request has no accountId query parameter).
        """
        cfg = self._config
        self._check_token(headers.get("auth"), now)
        iid = headers.get("iid")
        if not iid:
            raise _deny("The iid header is missing!")
        if iid != cfg.effective_iid:
            raise _deny("The iid header does not match the app!")
        account = headers.get("accountid")
        if not account:
            raise _deny("The accountId header is missing!")
        if account != cfg.account_id:
            raise _deny("Scope is incorrect! The accountId header is not this app's account.")
        if path_is_iid:
            if path_app != cfg.effective_iid:
                raise _deny("Scope is incorrect! The iid in the path is not this app's.")
            return
        if not query_account:
            raise _deny("The accountId query parameter is missing!")
        if query_account != cfg.account_id:
            raise _deny("Scope is incorrect! The accountId query parameter is not this app's account.")
        if path_app != cfg.stream_id:
            raise _deny("Scope is incorrect! The streamId in the path is not this app's stream.")

    def _check_token(self, token: str | None, now: float) -> None:
        if not token:
            raise _deny("The auth header (JWT) is missing!")
        exp = self._cache.get(token)
        if exp is None:
            claims = self._decode(token)
            exp = _expiry(claims)
            if self._config.enforce_jti:
                self._claim_jti(claims.get("jti"), exp, now)
            self._remember(token, exp)
        elif self._config.enforce_jti:
            raise _deny("The token's jti has already been used (Enforce JTI is on)!")
        if now > exp + self._config.jwt_leeway_seconds:
            raise _deny("The token has expired!")

    def _decode(self, token: str) -> dict[str, Any]:
        cfg = self._config
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise _deny("The token is not a well-formed JWT!") from None
        if header.get("alg") != "HS256":
            raise _deny("The token must be signed with HS256!")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                cfg.client_secret,
                algorithms=["HS256"],
                leeway=cfg.jwt_leeway_seconds,
                options={"verify_aud": False, "verify_iss": False},
            )
        except jwt.ExpiredSignatureError:
            raise _deny("The token has expired!") from None
        except jwt.InvalidSignatureError:
            raise _deny("The token's signature does not match the client secret!") from None
        except jwt.ImmatureSignatureError:
            raise _deny("The token is not valid yet (nbf or iat in the future)!") from None
        except jwt.InvalidTokenError as exc:
            raise _deny(f"The token is invalid ({type(exc).__name__})!") from None
        app_id = claims.get("appId")
        if app_id is None:
            raise _deny("Scope is incorrect! The token has no appId claim.")
        if app_id != cfg.client_id:
            raise _deny("Scope is incorrect! The token's appId is not this app's client id.")
        return claims

    def _claim_jti(self, jti: Any, exp: float, now: float) -> None:
        if not isinstance(jti, str) or not jti:
            raise _deny("The token has no jti claim and Enforce JTI is on!")
        if jti in self._used_jti:
            raise _deny("The token's jti has already been used (Enforce JTI is on)!")
        if len(self._used_jti) >= self._jti_memory:
            self._prune_jti(now)
        self._used_jti[jti] = exp + self._config.jwt_leeway_seconds

    def _prune_jti(self, now: float) -> None:
        """Drop expired jtis; if still full, the oldest half (tokens without exp live longest)."""
        self._used_jti = {j: t for j, t in self._used_jti.items() if t >= now}
        if len(self._used_jti) >= self._jti_memory:
            keep = list(self._used_jti.items())[len(self._used_jti) // 2 :]
            self._used_jti = dict(keep)

    def _remember(self, token: str, exp: float) -> None:
        self._cache[token] = exp
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def _expiry(claims: dict[str, Any]) -> float:
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, (int, float)) else math.inf
