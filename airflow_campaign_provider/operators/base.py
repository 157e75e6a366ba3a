"""The base classes of the campaign operators: the connection, an optional stream, the hook's
settings, the hook, and for operators acting on one existing campaign its id and type, checked
before any HTTP call.

Tests replace ``CampaignHook`` here: it is the one place an operator builds its hook. It is
imported when first used, not with this module: DAG files import operators at every parse.
"""

from __future__ import annotations

import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import BaseOperator
from airflow_campaign_provider.guidance import ExplainedArgumentsMeta
from airflow_campaign_provider.hooks import DEFAULT_CONN_ID
from airflow_campaign_provider.operators.arguments import check_target, raise_problems

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_campaign_provider.hooks.campaign import CampaignHook


def __getattr__(name: str) -> Any:
    """``CampaignHook``, imported on first use (and replaceable here by tests)."""
    if name == "CampaignHook":
        from airflow_campaign_provider.hooks.campaign import CampaignHook

        return CampaignHook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def hook_params_problems(hook_params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Every broken rule of a task's ``hook_params``, named ``hook_params.<field>``."""
    if not hook_params:
        return []
    from airflow_campaign_provider.exceptions import CampaignArgumentsError
    from airflow_campaign_provider.models.settings import HookParams

    try:
        HookParams.of(hook_params)
    except CampaignArgumentsError as error:
        return error.problems
    return []


class CampaignBaseOperator(BaseOperator, metaclass=ExplainedArgumentsMeta):
    """What every campaign operator shares: the connection, an optional stream, the hook.

    :param hook_params: The hook's settings for this task (timeouts, retry policy, the exactly-once
        attempts and pauses): the fields of :class:`~airflow_campaign_provider.models.settings.HookParams`,
        checked here; a deferred wait carries them into its trigger.
    """

    def __init__(
        self,
        *,
        kore_conn_id: str = DEFAULT_CONN_ID,
        stream_id: str | None = None,
        hook_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kore_conn_id = kore_conn_id
        self.stream_id = stream_id
        self.hook_params = dict(hook_params or {})
        raise_problems(hook_params_problems(self.hook_params))

    @cached_property
    def hook(self) -> CampaignHook:
        hook_class: type[CampaignHook] = sys.modules[__name__].CampaignHook
        return hook_class(self.kore_conn_id, stream_id=self.stream_id or None, params=self.hook_params)


class TargetCampaignBaseOperator(CampaignBaseOperator):
    """An operator acting on one existing campaign, given by id and type."""

    template_fields: Sequence[str] = ("kore_conn_id", "stream_id", "campaign_id", "campaign_type")

    def __init__(
        self,
        *,
        campaign_id: str,
        campaign_type: str = "sms",
        stream_id: str | None = None,
        kore_conn_id: str = DEFAULT_CONN_ID,
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
        from airflow_campaign_provider.api import CampaignType

        return self.campaign_id, CampaignType.parse(self.campaign_type).value
