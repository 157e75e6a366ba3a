"""Asset events for what a campaign operator changed, each with its ids, counts and status.

A list or campaign whose name the task knows is published through the operator's alias (the
asset is created on its first event, and a DAG scheduled on it runs). A Kore asset the DAG
declared as an outlet gets the extra of the change of its kind: that is how an operator acting
by id (start, stop) publishes on a named campaign. A declared asset naming another list or
campaign than the one changed is still published by Airflow; a warning says so.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

from airflow_campaign_provider.assets import RESULTS_ALIAS, kore_resource_of
from airflow_campaign_provider.lineage.effects import alias_of

if TYPE_CHECKING:
    from airflow_campaign_provider.lineage.effects import Effects

log = logging.getLogger(__name__)


def jsonable(extra: dict[str, Any]) -> dict[str, Any]:
    """An event's extra as JSON (a counter becomes a mapping, anything else its text)."""
    return dict(json.loads(json.dumps(extra, default=str)))


def publish_changes(operator: Any, outlet_events: Any, effects: Effects, host: str, stream_id: str) -> None:
    """Record the asset events of ``effects`` in the task's ``outlet_events``."""
    alias = alias_of(type(operator))
    published = alias is not None and alias in operator.outlets
    declared = [(asset, named) for asset in operator.outlets if (named := kore_resource_of(asset))]
    unmatched = {asset.uri: (asset, named) for asset, named in declared}
    for touch in effects.outputs:
        if not touch.published:
            continue
        resource = touch.resource(host, stream_id)
        extra = jsonable(touch.extra)
        # a change by id (name unknown) is the declared asset's of its kind
        matches = [
            asset
            for asset, named in declared
            if named.kind == touch.kind and (resource is None or named == resource)
        ]
        for asset in matches:
            outlet_events[asset].extra.update(extra)
            unmatched.pop(asset.uri, None)
        if resource is not None and published and not matches:
            outlet_events[alias].add(resource.asset(), extra=extra)
    changed_kinds = {touch.kind for touch in effects.outputs if touch.published}
    for asset, named in unmatched.values():
        if named.kind in changed_kinds:
            log.warning(
                "Outlet %s names a %s this task did not change; its event carries no extra.",
                asset.uri,
                named.kind,
            )
    if effects.results_path and RESULTS_ALIAS in operator.outlets:
        file_asset = Asset(name=effects.results_path, uri=effects.results_path)
        outlet_events[RESULTS_ALIAS].add(file_asset, extra=jsonable(effects.results_summary))
