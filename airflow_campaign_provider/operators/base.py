"""The base classes of the campaign operators: the connection, an optional stream, the hook,
and for operators acting on one existing campaign its id and type, checked before any HTTP call.

Tests replace ``CampaignHook`` here: it is the one place an operator builds its hook.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import BaseOperator
from airflow_campaign_provider.api import CampaignType
from airflow_campaign_provider.guidance import ExplainedArgumentsMeta
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.arguments import check_target, raise_problems

if TYPE_CHECKING:
    from collections.abc import Sequence


class CampaignBaseOperator(BaseOperator, metaclass=ExplainedArgumentsMeta):
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
