"""The base classes of the campaign operators: the connection, an optional stream, the hook's
settings, the hook, and for operators acting on one existing campaign its id and type, checked
before any HTTP call.

Tests replace ``CampaignHook`` here: it is the one place an operator builds its hook. It is
imported when first used, not with this module: DAG files import operators at every parse.

It is also the one place where what an operator did becomes asset events and OpenLineage: every
subclass's ``execute`` (and ``execute_complete``) is wrapped once, at class creation, to keep
what it returned (or raised); ``airflow_campaign_provider.lineage`` reads that with the
operator's arguments, so no operator writes a line for it. See ``docs/lineage.md``.
"""

from __future__ import annotations

import functools
import logging
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import BaseOperator
from airflow_campaign_provider._lazy import lazy_names
from airflow_campaign_provider.guidance import ExplainedArgumentsMeta
from airflow_campaign_provider.hooks import DEFAULT_CONN_ID
from airflow_campaign_provider.operators.arguments import check_target, raise_problems

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from airflow.sdk import Context

    from airflow_campaign_provider.hooks.campaign import CampaignHook
    from airflow_campaign_provider.lineage.effects import Effects

log = logging.getLogger(__name__)

#: The methods whose outcome is recorded: ``execute``, and the resumption after a deferral.
_RECORDED_METHODS = ("execute", "execute_complete")


#: ``CampaignHook``, imported on first use (and replaceable here by tests).
__getattr__ = lazy_names(__name__, {"CampaignHook": "airflow_campaign_provider.hooks.campaign"})


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


def _with_alias(operator_class: type, outlets: Any) -> list[Any]:
    """``outlets`` (one, several or none) as a list ending with the alias ``operator_class``
    publishes through, once."""
    from airflow_campaign_provider.lineage.effects import alias_of

    declared = list(outlets) if isinstance(outlets, (list, tuple, set)) else [outlets] if outlets else []
    alias = alias_of(operator_class)
    return declared if alias is None or alias in declared else [*declared, alias]


def _recorded(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` keeping its outcome on the operator; the outermost call of a chain of
    ``super()`` calls records, once."""

    @functools.wraps(method)
    def run(self: CampaignBaseOperator, context: Context, *args: Any, **kwargs: Any) -> Any:
        outermost = not self._kore_recording
        self._kore_recording = True
        try:
            result = method(self, context, *args, **kwargs)
        except BaseException as error:
            if outermost and type(error).__name__ != "TaskDeferred":
                self._kore_error = error
            raise
        finally:
            if outermost:
                self._kore_recording = False
        if outermost:
            self._record_outcome(context, result)
        return result

    run.__kore_recorded__ = True  # type: ignore[attr-defined]
    return run


class CampaignBaseOperator(BaseOperator, metaclass=ExplainedArgumentsMeta):
    """What every campaign operator shares: the connection, an optional stream, the hook; and
    the asset events and OpenLineage of what it did.

    :param hook_params: The hook's settings for this task (timeouts, retry policy, the exactly-once
        attempts and pauses): the fields of :class:`~airflow_campaign_provider.models.settings.HookParams`,
        checked here; a deferred wait carries them into its trigger.
    """

    _kore_recording = False
    _kore_error: BaseException | None = None
    _kore_effects: Effects | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _RECORDED_METHODS:
            method = cls.__dict__.get(name)
            if callable(method) and not getattr(method, "__kore_recorded__", False):
                setattr(cls, name, _recorded(method))

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
        self.outlets = _with_alias(type(self), self.outlets)

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        """Airflow's ``partial``, with this operator's asset alias among the outlets.

        A mapped task's ``__init__`` runs only on the worker, so without this its alias would be
        missing from the serialized DAG: Airflow would then create the alias on the first event,
        and mapped tasks reporting at once would race to insert it (a unique-key error on
        PostgreSQL fails their try). Declared here, the DAG processor creates it at parse time.
        """
        kwargs["outlets"] = _with_alias(cls, kwargs.get("outlets"))
        return super().partial(**kwargs)

    @cached_property
    def hook(self) -> CampaignHook:
        hook_class: type[CampaignHook] = sys.modules[__name__].CampaignHook
        return hook_class(self.kore_conn_id, stream_id=self.stream_id or None, params=self.hook_params)

    def _kore_where(self) -> tuple[str, str]:
        """The host and stream of the connection this task used, as Kore assets name them."""
        from airflow_campaign_provider.assets import kore_host

        settings = self.hook.settings
        return kore_host(settings.base_url), settings.stream_id

    def _record_outcome(self, context: Context, result: Any) -> None:
        """Keep what the task did and publish its asset events; a failure here is logged, never
        raised: the work is done, and a retry would not undo it."""
        from airflow_campaign_provider.lineage.effects import effects_of
        from airflow_campaign_provider.lineage.publish import publish_changes

        try:
            self._kore_effects = effects_of(self, result)
            publish_changes(self, context["outlet_events"], self._kore_effects, *self._kore_where())
        except Exception:
            log.warning("Could not publish the asset events of %s.", self.task_id, exc_info=True)

    def get_openlineage_facets_on_start(self) -> Any:
        """What the task's arguments name, before it runs (no request is made for it)."""
        from airflow_campaign_provider.lineage.effects import effects_of
        from airflow_campaign_provider.lineage.openlineage import operator_lineage

        return operator_lineage(effects_of(self), *self._kore_where(), lambda campaign_id: None)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage's datasets of what this task did (the OpenLineage provider calls this)."""
        from airflow_campaign_provider.lineage.effects import effects_of

        return self._openlineage(self._kore_effects or effects_of(self), None)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """What the failed task meant to read and change, and the error."""
        from airflow_campaign_provider.lineage.effects import effects_of

        return self._openlineage(effects_of(self), self._kore_error)

    def _openlineage(self, effects: Effects, error: BaseException | None) -> Any:
        from airflow_campaign_provider.lineage.openlineage import operator_lineage

        return operator_lineage(effects, *self._kore_where(), self._campaign_name, error)

    def _campaign_name(self, campaign_id: str) -> str | None:
        """A campaign's name, read for lineage only (one request), when the task acted by id."""
        try:
            return str(self.hook.get_campaign(campaign_id).get("name") or "") or None
        except Exception:
            log.warning("Could not read the name of campaign %s for lineage.", campaign_id, exc_info=True)
            return None


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
