"""The settings a task gives its hook, as one validated model: :class:`HookParams`.

What the Airflow connection holds (host, account, budget) is
:class:`~airflow_campaign_provider.models.connection.KoreConnectionSettings`, read when the first
call is made; what the task says (timeouts, retry policy, the exactly-once attempts and pauses) is
here, validated once where the task is defined and carried into its trigger when it defers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationError,
)

from airflow_campaign_provider.api.retry import RetryPolicy
from airflow_campaign_provider.exceptions import CampaignArgumentsError
from airflow_campaign_provider.hooks import DEFAULT_TIMEOUT
from airflow_campaign_provider.models.common import problems_of

if TYPE_CHECKING:
    from collections.abc import Mapping


def _timeout_pair(value: Any) -> Any:
    if value is None:
        raise ValueError("must be a number of seconds or a (connect, read) pair, never None")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (value, value)
    return value


class HookParams(BaseModel):
    """How a task's hook calls Kore and settles doubt: the one settings object of a connection and
    a task, validated once.

    A hook takes these fields as keyword arguments and keeps them as ``hook.params``; an operator
    or sensor takes them as ``hook_params`` (a mapping, as dbt Cloud's provider does), and a
    deferred wait carries them into its trigger (:meth:`serialize`), so the triggerer's hook
    retries and times out as the task's did. What the connection says (host, account, budget) is
    :class:`KoreConnectionSettings`, read when the first call is made.

    :param timeout: Connect and read timeouts in seconds, or one number for both. Never None.
    :param retry_policy: What is retried and how long to wait (a
        :class:`~airflow_campaign_provider.api.RetryPolicy` or a mapping of its fields).
    :param max_attempts: Create or play attempts at most; each after the first only once Kore
        surely did not act.
    :param ambiguity_lookups: Name look-ups after an ambiguous create before concluding it did not
        happen.
    :param ambiguity_recheck_seconds: Pause between two look-ups (or status reads) that settle an
        ambiguous create (or play), and before re-trying a refused stop of a killed task.
    :param lookup_clock_margin_seconds: How much earlier than the time given a look-up by name
        still looks: Kore's clock may be behind.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout: Annotated[tuple[PositiveFloat, PositiveFloat], BeforeValidator(_timeout_pair)] = DEFAULT_TIMEOUT
    retry_policy: RetryPolicy = Field(default_factory=RetryPolicy)
    max_attempts: PositiveInt = 3
    ambiguity_lookups: PositiveInt = 2
    ambiguity_recheck_seconds: NonNegativeFloat = 5.0
    lookup_clock_margin_seconds: NonNegativeFloat = 15 * 60.0

    @classmethod
    def of(cls, params: Mapping[str, Any] | HookParams | None, argument: str = "hook_params") -> HookParams:
        """``params`` validated (None: the defaults); every problem is named ``<argument>.<field>``
        (``argument`` empty: the field alone) in one :class:`~airflow_campaign_provider.exceptions.CampaignArgumentsError`."""
        if isinstance(params, HookParams):
            return params
        given = {
            name: value for name, value in (params or {}).items() if value is not None or name == "timeout"
        }
        try:
            return cls.model_validate(given)
        except ValidationError as error:
            prefix = f"{argument}." if argument else ""
            problems = [(prefix + field, rule) for field, rule in problems_of(error)]
            raise CampaignArgumentsError(problems) from None

    def serialize(self) -> dict[str, Any]:
        """The JSON-safe mapping that rebuilds these params: what differs from the defaults."""
        return self.model_dump(mode="json", exclude_defaults=True)
