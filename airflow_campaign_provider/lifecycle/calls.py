"""What the guarantees need of a hook, as a protocol: Kore's calls, and the guarantees and look-ups
they build on (called through the hook, so a subclass or a test double can replace any of them).

:class:`~airflow_campaign_provider.hooks.campaign.CampaignHook` is the hook that has them; mypy
checks it against this protocol wherever it binds a guarantee. Typing the guarantees by this
protocol, not by the hook, keeps the hook and the guarantees free of an import circle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from datetime import datetime

    from airflow_campaign_provider.models.settings import HookParams
    from airflow_campaign_provider.status import WaitGoal


class CampaignCalls(Protocol):
    """A hook the guarantees of :mod:`airflow_campaign_provider.lifecycle` can work with."""

    params: HookParams

    @property
    def log(self) -> Any: ...

    def get_campaign(self, campaign_id: str) -> dict[str, Any]: ...

    def get_campaign_status(self, campaign_id: str) -> str: ...

    def create_sms_campaign(self, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def create_voice_campaign(self, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def put_campaign(
        self, campaign_id: str, campaign_type: str, body: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    def start_campaign(self, campaign_id: str, campaign_type: str = "sms") -> dict[str, Any]: ...

    def stop_campaign(self, campaign_id: str, campaign_type: str = "sms") -> dict[str, Any]: ...

    def delete_campaign(self, campaign_id: str, campaign_type: str = "sms") -> dict[str, Any]: ...

    def iter_campaigns(
        self,
        campaign_type: str = "sms",
        statuses: Iterable[str] | None = None,
        page_size: int = 50,
        *,
        newest_first: bool = False,
    ) -> Iterator[dict[str, Any]]: ...

    def _campaign_pages(
        self,
        campaign_type: str,
        statuses: Iterable[str] | None,
        page_size: int,
        *,
        newest_first: bool = False,
    ) -> Iterator[list[dict[str, Any]]]: ...

    def find_campaign_by_name(
        self, name: str, campaign_type: str = "sms", *, created_after: datetime | None = None
    ) -> dict[str, Any] | None: ...

    def campaigns_named(
        self, name: str, campaign_type: str = "sms", *, created_after: datetime | None = None
    ) -> list[dict[str, Any]]: ...

    def stop_campaign_if_running(self, campaign_id: str, campaign_type: str = "sms") -> str: ...

    def delete_campaign_if_exists(
        self,
        campaign_id: str,
        campaign_type: str = "sms",
        *,
        missing_ok: bool = True,
        stop_first: bool = True,
    ) -> dict[str, Any]: ...

    def check_campaign_status(self, campaign_id: str, goal: WaitGoal) -> tuple[str, bool]: ...
