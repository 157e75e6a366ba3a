"""Kore's JWT: the HS256 token every call carries, minted from the connection's app credentials."""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider import clock

if TYPE_CHECKING:
    from airflow_campaign_provider.models.connection import KoreConnectionSettings


#: Logged by both transports before they mint a new token and send a refused request once more.
TOKEN_REFUSED_LOG = "Kore.ai refused the token for %s; minting a new one, trying once more."


class TokenMinter:
    """Mints Kore's HS256 JWT: one reusable token, or a one-time token with a fresh ``jti``.

    Kore enforces two rules on a token that carries ``jti``: its ``exp`` is at most one hour after
    issue, and a ``jti`` seen before is refused ("possibly a replay"). So a reusable token carries
    no ``jti`` (it is cached until shortly before its ``exp``), and every token that carries one is
    minted for one request and never handed out again: every request when the connection says
    ``enforce_jti`` (the Kore app then requires ``jti``), and the resend after a 401.
    Thread-safe: a hook may be shared by mapped task threads.
    """

    #: A cached token is replaced this long before its ``exp``.
    REFRESH_MARGIN_SECONDS = 60

    def __init__(self, settings: KoreConnectionSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self, *, one_time: bool = False) -> tuple[str, bool]:
        """Return ``(jwt, reusable_and_new)``.

        Callers register a reusable token with the secrets masker the first time they see it. A
        one-time token is not registered: the masker rebuilds its pattern for every secret added,
        so a token per request would make every call slower than the last. Airflow's log pipeline
        redacts any JWT-shaped text with one fixed pattern, and Kore refuses the token once used.
        """
        now = clock.wall()
        if one_time or self._settings.enforce_jti:
            return self._mint(now, with_jti=True), False
        with self._lock:
            margin = min(self.REFRESH_MARGIN_SECONDS, self._settings.token_ttl_seconds / 2)
            if self._token is None or now >= self._expires_at - margin:
                self._token = self._mint(now, with_jti=False)
                self._expires_at = now + self._settings.token_ttl_seconds
                return self._token, True
            return self._token, False

    def invalidate(self) -> None:
        """Forget the cached token, e.g. after Kore answered 401."""
        with self._lock:
            self._token = None

    def refused(self, status_code: int) -> bool:
        """Whether Kore refused the token (401); if so it is forgotten and the caller sends once more
        with a one-time token (accepted whether or not the Kore app enforces ``jti``)."""
        if status_code != 401:
            return False
        self.invalidate()
        return True

    def _mint(self, now: float, *, with_jti: bool) -> str:
        import jwt  # PyJWT: imported on first use, it is slow to import and DAG files never need it.

        issued_at = int(now)
        claims: dict[str, Any] = {
            "appId": self._settings.client_id,
            "sub": self._settings.jwt_subject,
            "iat": issued_at,
            "exp": issued_at + self._settings.token_ttl_seconds,  # <= MAX_TOKEN_TTL_SECONDS
        }
        if with_jti:
            claims["jti"] = uuid.uuid4().hex
        return jwt.encode(claims, self._settings.client_secret, algorithm="HS256")
