"""What the synchronous and the asynchronous hook share: the connection type, timeouts, the retry
policy and how a retry is logged. Requests, auth and answers come from ``api``; the sending is
each hook's own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import BaseHook
from airflow_campaign_provider.hooks import DEFAULT_CONN_ID, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Mapping

    import tenacity
    from airflow.sdk import Connection

    from airflow_campaign_provider.models.connection import KoreConnectionSettings
    from airflow_campaign_provider.models.settings import HookParams

__all__ = ["DEFAULT_TIMEOUT", "CampaignHookBase"]


class CampaignHookBase(BaseHook):
    """The connection type, timeouts, retry policy and retry log of both campaign hooks."""

    conn_name_attr = "kore_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "kore_campaign"
    hook_name = "Kore.ai Campaigns"

    def __init__(
        self,
        kore_conn_id: str = default_conn_name,
        *,
        stream_id: str | None = None,
        params: HookParams | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """``params``, or the :class:`HookParams` fields as keyword arguments (``timeout``,
        ``retry_policy``, ...): the settings of this hook, validated once; the rest go to BaseHook."""
        from airflow_campaign_provider.models.settings import HookParams  # compiled when a hook is made

        given = {name: kwargs.pop(name) for name in HookParams.model_fields if name in kwargs}
        super().__init__(**kwargs)
        self.kore_conn_id = kore_conn_id
        self.stream_id = stream_id or None
        self.params = HookParams.of({**dict(params or {}), **given}, argument="")
        self.timeout = self.params.timeout
        self.retry_policy = self.params.retry_policy

    def hook_params(self) -> dict[str, Any]:
        """This hook's settings as JSON-safe keyword arguments: a trigger rebuilds its hook with them."""
        return self.params.serialize()

    def settings_of(self, conn: Connection, extra: Mapping[str, Any]) -> KoreConnectionSettings:
        """The validated settings of ``conn`` (its ``extra`` already decoded), this hook's stream
        replacing the connection's; a missing or malformed field raises an error naming it."""
        from airflow_campaign_provider.models.connection import KoreConnectionSettings

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
