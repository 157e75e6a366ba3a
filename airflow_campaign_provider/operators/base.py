"""The base classes of the campaign operators: the connection, an optional stream, the hook,
and for operators acting on one existing campaign its id and type, checked before any HTTP call.

Tests replace ``CampaignHook`` here: it is the one place an operator builds its hook.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import BaseOperator
from airflow_campaign_provider.api import CampaignType, campaign_id_of
from airflow_campaign_provider.exceptions import CampaignError
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.arguments import check_target, raise_problems
from airflow_campaign_provider.status import READY_GOAL, CampaignStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context


class CampaignBaseOperator(BaseOperator):
    """What every campaign operator shares: the connection, an optional stream, the hook."""

    def __init__(
        self,
        *,
        kore_conn_id: str = CampaignHook.default_conn_name,
        stream_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kore_conn_id = kore_conn_id
        self.stream_id = stream_id

    @cached_property
    def hook(self) -> CampaignHook:
        return CampaignHook(self.kore_conn_id, stream_id=self.stream_id or None)

    def _publish_created(
        self,
        context: Context,
        campaign: dict[str, Any],
        *,
        wait_for_ready: bool,
        ready_timeout: float,
        poll_interval: float,
    ) -> str:
        """What every create operator does with its campaign: push the id to XCom at once (so a
        teardown finds it even if the wait fails), then optionally wait out ``Preparing``."""
        campaign_id = campaign_id_of(campaign)
        if campaign_id is None:  # parse_campaign guarantees an id; this keeps the type honest
            raise CampaignError(f"Kore.ai returned campaign {campaign.get('name')!r} without an id.")
        context["ti"].xcom_push(key="campaign_id", value=campaign_id)
        if wait_for_ready and campaign.get("status") != CampaignStatus.READY.value:
            self.hook.wait_for_campaign_status(
                campaign_id, READY_GOAL, timeout=ready_timeout, poll_interval=poll_interval
            )
        return campaign_id


class TargetCampaignBaseOperator(CampaignBaseOperator):
    """An operator acting on one existing campaign, given by id and type."""

    template_fields: Sequence[str] = ("kore_conn_id", "stream_id", "campaign_id", "campaign_type")

    def __init__(
        self,
        *,
        campaign_id: str,
        campaign_type: str = "sms",
        stream_id: str | None = None,
        kore_conn_id: str = CampaignHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(kore_conn_id=kore_conn_id, stream_id=stream_id, **kwargs)
        self.campaign_id = campaign_id
        self.campaign_type = campaign_type
        problems: list[tuple[str, str]] = []
        check_target(problems, campaign_id, campaign_type)
        raise_problems(problems, {"campaign_id": campaign_id, "campaign_type": campaign_type})

    def _target(self) -> tuple[str, str]:
        """The rendered ``(campaign_id, campaign_type)``, checked before any HTTP call."""
        problems: list[tuple[str, str]] = []
        check_target(problems, self.campaign_id, self.campaign_type)
        raise_problems(problems)
        return self.campaign_id, CampaignType.parse(self.campaign_type).value
