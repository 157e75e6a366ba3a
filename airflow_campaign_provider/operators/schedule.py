"""Enable or disable a campaign's schedule (daily every N days, or weekly on given days)."""

from __future__ import annotations

from datetime import timezone
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.exceptions import InvalidCampaignArgumentError
from airflow_campaign_provider.operators.arguments import raise_problems
from airflow_campaign_provider.operators.base import CampaignBaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from airflow.sdk import Context


class _NamedCampaignOperator(CampaignBaseOperator):
    """An operator acting on a campaign by name, as Kore's schedule calls do; the name must single
    out one campaign (``campaign_id``, when given, the one meant), else nothing is sent."""

    template_fields: Sequence[str] = (
        "kore_conn_id",
        "stream_id",
        "campaign_name",
        "campaign_type",
        "campaign_id",
    )

    def __init__(
        self, *, campaign_name: str, campaign_type: str = "sms", campaign_id: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_name = campaign_name
        self.campaign_type = campaign_type
        self.campaign_id = campaign_id

    def _named_problems(self) -> list[tuple[str, str]]:
        problems = []
        if not isinstance(self.campaign_name, str) or not self.campaign_name.strip():
            problems.append(("campaign_name", f"must be a non-empty string, got {self.campaign_name!r}"))
        try:
            _campaign_type(self.campaign_type)
        except InvalidCampaignArgumentError as error:
            problems.append((error.field, error.rule))
        return problems


class EnableCampaignScheduleOperator(_NamedCampaignOperator):
    """
    Schedule a campaign: it becomes ``Scheduled`` and Kore starts it at ``start``, again every
    ``every`` days (``recurrence="daily"``) or on ``weekdays`` of every ``every``-th week
    (``"weekly"``), until ``end``. Keyed by the campaign's name, as Kore's call is.

    Times are sent as Kore writes them (``YYYY-MM-DD HH:mm:ss``), which names no zone: datetimes
    are written in the campaign's calling-hours time zone, strings are sent as written. The end
    must be after the start and after now; every rule is checked before any call. Idempotent: a
    campaign already on this schedule is left alone. Refused (nothing sent) while the campaign is
    being prepared or runs, and when several campaigns have the name (Kore would pick one).

    Returns ``{campaign_id, campaign_name, status, changed, startDateTime, endDateTime}``.

    :param campaign_name: The campaign's name.
    :param campaign_type: ``"sms"`` (default) or ``"voice"``.
    :param start: First run: an aware datetime, or ``"2026-01-27 18:29:00"``.
    :param end: No run after this; same forms.
    :param recurrence: ``"daily"`` (default) or ``"weekly"``.
    :param every: Every N days (daily) or weeks (weekly), default 1.
    :param weekdays: Weekly only: ``["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]`` or some.
    :param campaign_id: The campaign meant (``cd-…``, optional): refused unless the name keys it alone.
    :param stream_id: Bot/stream id overriding the connection's.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    """

    template_fields: Sequence[str] = (*_NamedCampaignOperator.template_fields, "start", "end", "weekdays")

    def __init__(
        self,
        *,
        start: datetime | str,
        end: datetime | str,
        recurrence: str = "daily",
        every: int = 1,
        weekdays: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.start = start
        self.end = end
        self.recurrence = recurrence
        self.every = every
        self.weekdays = list(weekdays) if weekdays is not None else None
        arguments = ("campaign_name", "campaign_type", "start", "end", "recurrence", "every", "weekdays")
        raise_problems(self._problems(), {name: getattr(self, name) for name in arguments})

    def _problems(self) -> list[tuple[str, str]]:
        """Every rule but "after now", which waits for the run (a DAG file outlives its dates)."""
        from airflow_campaign_provider.models.schedule import schedule_body

        _, problems = schedule_body(
            start=self.start,
            end=self.end,
            recurrence=self.recurrence,
            every=self.every,
            weekdays=self.weekdays,
            zone=timezone.utc,  # any zone: order and form do not depend on it
        )
        return self._named_problems() + problems

    def execute(self, context: Context) -> dict[str, Any]:
        raise_problems(self._problems())
        return self.hook.enable_campaign_schedule(
            self.campaign_name,
            _campaign_type(self.campaign_type),
            start=self.start,
            end=self.end,
            recurrence=self.recurrence,
            every=self.every,
            weekdays=self.weekdays,
            campaign_id=self.campaign_id,
        )


class DisableCampaignScheduleOperator(_NamedCampaignOperator):
    """
    Turn a campaign's schedule off; a campaign with no schedule on is left alone (idempotent).
    One waiting for its schedule is ``Ready`` again; one running keeps running (stop it with
    ``StopCampaignOperator``). Returns ``{campaign_id, campaign_name, status, changed}``.

    :param campaign_name: The campaign's name.
    :param campaign_type: ``"sms"`` (default) or ``"voice"``.
    :param campaign_id: The campaign meant (``cd-…``, optional): refused unless the name keys it alone.
    :param stream_id: Bot/stream id overriding the connection's.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        raise_problems(
            self._named_problems(), {"campaign_name": self.campaign_name, "campaign_type": self.campaign_type}
        )

    def execute(self, context: Context) -> dict[str, Any]:
        raise_problems(self._named_problems())
        return self.hook.disable_campaign_schedule(
            self.campaign_name, _campaign_type(self.campaign_type), campaign_id=self.campaign_id
        )


def _campaign_type(value: str) -> str:
    """The checked campaign type; the protocol module loads when a task checks or runs."""
    from airflow_campaign_provider.api import CampaignType

    return CampaignType.parse(value).value
