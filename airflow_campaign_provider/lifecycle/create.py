"""Create a campaign exactly once: adopt a matching same-named one, settle an ambiguous create by
looking the name up before any new attempt, and of two created concurrently keep the first.

A retried task, a cleared task or two runs at once never leave two campaigns: every create is
preceded, and after an ambiguous failure followed, by a look-up by name (:mod:`.lookup`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import campaign_id_of, created_at, creation_order
from airflow_campaign_provider.exceptions import (
    CampaignConflictError,
    CampaignError,
    CampaignOutcomeUnknownError,
    CampaignServerError,
    CampaignValidationError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.lifecycle import IF_EXISTS_CHOICES
from airflow_campaign_provider.models.bodies import check_campaign_body
from airflow_campaign_provider.status import NOT_STARTED_STATUSES, TERMINAL_STATUSES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_campaign_provider.lifecycle.calls import CampaignCalls
    from airflow_campaign_provider.models.update import CampaignSpec


def create_campaign_once(
    hook: CampaignCalls,
    spec: CampaignSpec,
    *,
    if_exists: str = "reuse",
    max_attempts: int | None = None,
    ambiguity_lookups: int | None = None,
    ambiguity_recheck_seconds: float | None = None,
    created_after: datetime | None = None,
) -> dict[str, Any]:
    """Create the campaign ``spec`` describes (any type: ``spec`` names it, builds its checked
    body and tells how an existing one differs) unless this very campaign exists; return it.

    Every argument is checked before any HTTP call (one error lists every problem). A
    same-named campaign is looked up first and adopted when it matches (``if_exists="reuse"``)
    or refused, naming every differing field; ``if_exists="fail"`` refuses any. After an
    ambiguous failure (timeout, dropped connection, 5xx) the name is looked up again before
    any new attempt, so a retried task never creates a second campaign. After creating, the
    name is looked up once more: of two same-named campaigns made concurrently, the later
    deletes itself and the earlier is adopted.

    ``created_after``: no campaign this call could adopt was created before it (a task passes
    its run's start), so the look-ups read only the campaigns created since, newest first;
    without it, the first look-up reads the whole account.
    """
    body = spec.to_body()  # every argument is checked before any HTTP call
    if if_exists not in IF_EXISTS_CHOICES:
        raise InvalidCampaignArgumentError(
            "if_exists", f"must be one of {', '.join(IF_EXISTS_CHOICES)}, got {if_exists!r}"
        )
    if created_after is not None and created_after.tzinfo is None:
        raise InvalidCampaignArgumentError("created_after", "must carry a time zone")
    # Once a look-up has found nothing, a same-named campaign can only appear after it began.
    since = created_after or datetime.now(timezone.utc)
    found = hook.find_campaign_by_name(spec.name, spec.campaign_type, created_after=created_after)
    if found is not None:
        if if_exists == "fail":
            raise CampaignConflictError(
                f"A campaign named {found.get('name')!r} already exists ({campaign_id_of(found)}, "
                f"status {found.get('status')}); if_exists='fail' forbids reusing it."
            )
        return _adopt(hook, spec, found, "already exists")
    return _create_once(
        hook,
        spec,
        body,
        if_exists=if_exists,
        max_attempts=max_attempts or hook.params.max_attempts,
        lookups=ambiguity_lookups or hook.params.ambiguity_lookups,
        recheck_seconds=_recheck(hook, ambiguity_recheck_seconds),
        since=since,
    )


def _recheck(hook: CampaignCalls, seconds: float | None) -> float:
    return hook.params.ambiguity_recheck_seconds if seconds is None else seconds


def _adopt(hook: CampaignCalls, spec: CampaignSpec, found: Mapping[str, Any], why: str) -> dict[str, Any]:
    """The full campaign behind a name match, if it is what ``spec`` asks for."""
    campaign_id = campaign_id_of(found)
    if campaign_id is None:
        raise CampaignConflictError(f"Kore.ai lists a campaign named {spec.name!r} without an id.")
    campaign = hook.get_campaign(campaign_id)
    differing, unchecked = spec.differences(campaign)
    if differing:
        raise CampaignConflictError(
            f"A campaign named {campaign.get('name')!r} ({campaign_id}) {why} but differs from what "
            f"this task asks for, so it is not reused:\n" + "\n".join(f"  - {line}" for line in differing)
        )
    if unchecked:
        hook.log.info(
            "Kore.ai does not show %s of campaign %s; not compared.", ", ".join(unchecked), campaign_id
        )
    status = campaign.get("status")
    hook.log.info(
        "Reusing campaign %s (%s, %s): it %s and matches the request.",
        spec.name,
        campaign_id,
        status,
        why,
    )
    if status in TERMINAL_STATUSES:
        hook.log.warning(
            "Campaign %s is already %s: it has run and will not be started again.", campaign_id, status
        )
    return campaign


def _create_once(
    hook: CampaignCalls,
    spec: CampaignSpec,
    body: dict[str, Any],
    *,
    if_exists: str,
    max_attempts: int,
    lookups: int,
    recheck_seconds: float,
    since: datetime,
) -> dict[str, Any]:
    """Create, and after an ambiguous failure resend only once the name is surely absent.

    ``since``: every same-named campaign a look-up must find was created after it.
    """
    ambiguous: CampaignError | None = None
    for attempt in range(1, max_attempts + 1):
        try:
            send = hook.create_voice_campaign if spec.campaign_type == "voice" else hook.create_sms_campaign
            campaign = send(body)
        except (CampaignOutcomeUnknownError, CampaignServerError) as error:
            ambiguous = error
            hook.log.warning(
                "Creating campaign %s may or may not have worked (attempt %d of %d): %s. "
                "Looking it up by name before any new attempt.",
                spec.name,
                attempt,
                max_attempts,
                error,
            )
            found = _lookup_after_ambiguity(hook, spec, lookups, recheck_seconds, since)
            if found is not None:
                return _adopt(hook, spec, found, "was created by the unanswered attempt")
            hook.log.info("No campaign named %s exists: the attempt did not take effect.", spec.name)
            continue
        except CampaignValidationError:
            # Kore refuses a taken name: a lost attempt of ours, or a concurrent run, got there first.
            found = hook.find_campaign_by_name(spec.name, spec.campaign_type, created_after=since)
            if found is None:
                raise
            if ambiguous is None and if_exists == "fail":
                raise CampaignConflictError(
                    f"A campaign named {spec.name!r} was created concurrently; if_exists='fail'."
                ) from None
            return _adopt(hook, spec, found, "was created concurrently")
        hook.log.info(
            "Created campaign %s (%s), status %s.",
            spec.name,
            campaign_id_of(campaign),
            campaign.get("status"),
        )
        return _keep_first_created(hook, spec, campaign, since, if_exists)
    raise CampaignError(
        f"Gave up creating campaign {spec.name!r} after {max_attempts} attempts "
        f"that each failed ambiguously; none took effect. Last error: {ambiguous}"
    ) from ambiguous


def _keep_first_created(
    hook: CampaignCalls, spec: CampaignSpec, created: dict[str, Any], since: datetime, if_exists: str
) -> dict[str, Any]:
    """Of same-named campaigns made concurrently, keep the first created; ours deletes itself
    if it came later (and has not started), and the first is adopted.

    Kore does not document that it refuses a taken name. Every concurrent creator looks the
    name up after its own create, so the later one always sees the earlier and gives way;
    a campaign that has started is never deleted.
    """
    mine = campaign_id_of(created)
    named = hook.campaigns_named(spec.name, spec.campaign_type, created_after=since)
    listed = {campaign_id_of(campaign) or "": campaign for campaign in named}
    if mine is None or not set(listed) - {mine}:
        return created
    ours = listed.get(mine, created)
    first = min([*named, ours], key=creation_order)
    if campaign_id_of(first) == mine:
        hook.log.info("Campaign %s (%s) was created before its same-named twins: kept.", spec.name, mine)
        return created
    if created_at(first) is None or created_at(ours) is None:
        raise CampaignConflictError(
            f"Campaigns named {spec.name!r} were created concurrently ({', '.join(sorted(listed))}) "
            "and Kore.ai shows no creation time to tell which came first; none was deleted."
        )
    if ours.get("status") not in NOT_STARTED_STATUSES:
        hook.log.warning(
            "Campaign %s (%s) has a same-named twin created earlier (%s) but is %s: not deleted.",
            spec.name,
            mine,
            campaign_id_of(first),
            ours.get("status"),
        )
        return created
    hook.log.warning(
        "Campaign %s was created concurrently twice: %s first, then %s (this call's). "
        "Deleting %s, which has not started, and adopting %s.",
        spec.name,
        campaign_id_of(first),
        mine,
        mine,
        campaign_id_of(first),
    )
    hook.delete_campaign_if_exists(mine, spec.campaign_type, stop_first=False)
    if if_exists == "fail":
        raise CampaignConflictError(
            f"A campaign named {spec.name!r} was created concurrently; if_exists='fail'."
        )
    return _adopt(hook, spec, first, "was created concurrently, first")


def _lookup_after_ambiguity(
    hook: CampaignCalls, spec: CampaignSpec, lookups: int, recheck_seconds: float, since: datetime
) -> dict[str, Any] | None:
    for lookup in range(lookups):
        if lookup:
            clock.sleep(recheck_seconds)
        found = hook.find_campaign_by_name(spec.name, spec.campaign_type, created_after=since)
        if found is not None:
            return found
    return None


def create_from_body_once(
    hook: CampaignCalls,
    campaign_type: str,
    body: Mapping[str, Any],
    *,
    if_exists: str = "reuse",
    created_after: datetime | None = None,
) -> dict[str, Any]:
    """Create the campaign Kore's own create ``body`` describes (a voice campaign, or an SMS one
    without a template: ``format`` ``simple`` with the message text, or ``advanced`` with an
    experience flow) unless this very campaign exists; return it, never two.

    ``body`` is checked against its type's documented rules before any HTTP call (see
    :class:`~airflow_campaign_provider.models.voice.VoiceCampaignBody`); the rest is
    :func:`create_campaign_once`'s: a matching same-named campaign is adopted, a differing one
    refused naming each field, and after an ambiguous failure the name is looked up before any
    new attempt.
    """
    from airflow_campaign_provider.models.update import BodySpec

    spec = BodySpec(campaign_type, check_campaign_body(campaign_type, body, "body"))
    return create_campaign_once(hook, spec, if_exists=if_exists, created_after=created_after)
