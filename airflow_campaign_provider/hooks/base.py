"""What the synchronous and the asynchronous hook share: the connection type, timeouts, the retry
policy and how a retry is logged. Requests, auth and answers come from ``api``; the sending is
each hook's own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import BaseHook
from airflow_campaign_provider.api import RetryPolicy
from airflow_campaign_provider.models.connection import KoreConnectionSettings

if TYPE_CHECKING:
    from collections.abc import Mapping

    import tenacity
    from airflow.sdk import Connection

DEFAULT_TIMEOUT = (10.0, 30.0)


class CampaignHookBase(BaseHook):
    """The connection type, timeouts, retry policy and retry log of both campaign hooks."""

    conn_name_attr = "kore_conn_id"
    default_conn_name = "kore_campaign_default"
    conn_type = "kore_campaign"
    hook_name = "Kore.ai Campaigns"

    def __init__(
        self,
        kore_conn_id: str = default_conn_name,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry_policy: RetryPolicy | None = None,
        stream_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if timeout is None:
            raise ValueError("timeout: must be a number of seconds or a (connect, read) pair, never None")
        self.kore_conn_id = kore_conn_id
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self.stream_id = stream_id or None

    def settings_of(self, conn: Connection, extra: Mapping[str, Any]) -> KoreConnectionSettings:
        """The validated settings of ``conn`` (its ``extra`` already decoded), this hook's stream
        replacing the connection's; a missing or malformed field raises an error naming it."""
        if self.stream_id:
            extra = {**extra, "stream_id": self.stream_id}
        return KoreConnectionSettings.from_connection(
            host=conn.host, port=conn.port, login=conn.login, password=conn.password, extra=extra
        )

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        self.log.warning(
            "Kore.ai call failed (attempt %d of %d), retrying in %.1fs: %s",
            state.attempt_number,
            self.retry_policy.max_attempts,
            wait,
            error,
        )
