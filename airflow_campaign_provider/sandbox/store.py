"""Campaigns, their lifecycle and the messages they send.

Progress is computed from timestamps: a run knows when it started and how far apart its
messages are, so the messages due by any moment follow from the clock alone. A heap of
"next event" times (a campaign becoming Ready, its next message, its completion) lets
`advance(now)` touch only the campaigns that have something due, so a thousand active
campaigns cost almost nothing between events. Everything runs on the server's event loop,
so no locks are needed. With a Database, every change is written through.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import uuid
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.models.common import decode_message
from airflow_campaign_provider.sandbox import calling_hours, dialer, schedules
from airflow_campaign_provider.sandbox.contact_lists import ContactListBook
from airflow_campaign_provider.sandbox.errors import KoreError, not_found
from airflow_campaign_provider.sandbox.jsonutil import is_plain_json, iso
from airflow_campaign_provider.sandbox.seed import Seed, Template, sample_create_body
from airflow_campaign_provider.status import CampaignStatus

if TYPE_CHECKING:
    from collections.abc import Iterable
    from contextlib import AbstractContextManager

    from airflow_campaign_provider.sandbox.config import SandboxConfig
    from airflow_campaign_provider.sandbox.db import Database, Snapshot
    from airflow_campaign_provider.sandbox.validation import ListQuery

PREPARING = CampaignStatus.PREPARING.value
READY = CampaignStatus.READY.value
ACTIVE = CampaignStatus.ACTIVE.value
COMPLETED = CampaignStatus.COMPLETED.value
STOPPED = CampaignStatus.STOPPED.value
PLAYABLE = (READY, STOPPED, CampaignStatus.PAUSED.value)
STOPPABLE = (
    ACTIVE,
    CampaignStatus.PAUSED.value,
    CampaignStatus.SCHEDULED.value,
    CampaignStatus.RESCHEDULED.value,
)
SCHEDULED = CampaignStatus.SCHEDULED.value
SCHEDULABLE = (READY, SCHEDULED, STOPPED, COMPLETED)
KNOWN_STATUSES = tuple(s.value for s in CampaignStatus)
#: What a PUT keeps of the stored campaign: what the server owns, not what the body describes.
UPDATE_KEEPS = (
    "_id",
    "status",
    "createdAt",
    "isImported",
    "isFiltersEnabled",
    "schedule",
    "totalMessagesSent",
    "campaignInstanceId",
)
DERIVED_FIELDS = frozenset({"lname", "status", "totalMessagesSent"})  # the sandbox sets these itself
SEED_KEYS = frozenset({"status", "campaign_type", "complete_in_seconds", "ready_in_seconds", "fields"})


class ResourceKind(str, Enum):
    """The reference data an account holds, as named in admin URLs."""

    CONTACT_LISTS = "contact-lists"
    DNC_LISTS = "dnc-lists"
    TEMPLATES = "templates"

    @property
    def attr(self) -> str:
        """The Store attribute (and seed key) holding this kind."""
        return self.value.replace("-", "_")


@dataclass
class Message:
    """One SMS (or call) the sandbox pretended to send."""

    campaign_id: str
    phone: str
    contact_list: str
    sent_at: float
    channel: str
    text: str = ""  # what the phone got: the SMS text, or which flow the call ran

    def to_dict(self) -> dict[str, Any]:
        """The admin endpoint's JSON form."""
        return {
            "campaignId": self.campaign_id,
            "phone": self.phone,
            "contactList": self.contact_list,
            "channel": self.channel,
            "sentAt": iso(self.sent_at),
            "text": self.text,
        }


@dataclass
class Run:
    """One play of a campaign: message k goes out (k+1) * interval after anchor (capped at
    finish_at), counted in open seconds of ``hours`` (its calling hours, when they are enforced)
    and in plain seconds without them."""

    instance_id: str
    anchor: float
    interval: float
    finish_at: float
    recipients: list[tuple[str, str]]  # (phone, contact list), DNC and already-sent numbers left out
    done: int = 0
    hours: dict[str, Any] | None = None

    def message_time(self, k: int) -> float:
        """When message k of this run is sent."""
        return min(calling_hours.wall_time(self.hours, self.anchor, (k + 1) * self.interval), self.finish_at)

    def due(self, now: float) -> int:
        """How many messages have been sent by `now` (consistent with `message_time` to the bit)."""
        n = len(self.recipients)
        if now >= self.finish_at:
            return n
        if self.interval <= 0:
            return 0  # only a run with no recipients and a later finish has no interval
        if self.hours is not None:  # message times are monotonic: the first one still to come
            return bisect.bisect_right(range(n), now, key=self.message_time)
        k = min(n, max(0, int((now - self.anchor) / self.interval)))
        while k < n and self.message_time(k) <= now:
            k += 1
        while k > 0 and self.message_time(k - 1) > now:
            k -= 1
        return k

    def next_event(self) -> float:
        """When something next happens to this run (a message or the completion)."""
        return self.message_time(self.done) if self.done < len(self.recipients) else self.finish_at


@dataclass
class Campaign:
    """A campaign: its public document plus what the lifecycle needs."""

    id: str
    kind: str  # "sms" or "voice"
    doc: dict[str, Any]
    ready_at: float | None = None  # set while Preparing
    run: Run | None = None  # set while Active
    starts_at: float | None = None  # set while Scheduled: when its schedule plays it
    sent: set[str] = field(default_factory=set)  # every phone that got a message, across runs
    version: int = 0  # bumped whenever scheduled events become stale
    history: list[tuple[str, float]] = field(default_factory=list)  # (status, since), oldest first
    due: int = 0  # how many contacts its runs were to reach: its lists minus DNC, each once

    @property
    def text(self) -> str:
        """What each contact gets: the SMS text (decoded), or the flow a call runs."""
        message = self.doc.get("message")
        if self.kind == "voice" or not isinstance(message, dict) or not message.get("message"):
            flow = (
                self.doc.get("experienceFlowName") or self.doc.get("experienceFlow") or "its experience flow"
            )
            return f"(a conversation run by {flow})"
        raw = str(message["message"])
        return decode_message(raw) or raw

    @property
    def status(self) -> str:
        """The real status (a forced one only shows in views)."""
        return str(self.doc["status"])

    def set_status(self, status: str, at: float) -> None:
        """Move to `status` as of time `at`."""
        self.doc["status"] = status
        self.doc["updatedAt"] = iso(at)
        if not self.history or self.history[-1][0] != status:
            self.history.append((status, at))

    def to_record(self) -> dict[str, Any]:
        """JSON-able form for the database (sent numbers live in the messages table)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "doc": self.doc,
            "ready_at": self.ready_at,
            "run": asdict(self.run) if self.run else None,
            "starts_at": self.starts_at,
            "history": self.history,
            "due": self.due,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Campaign:
        """Inverse of `to_record`."""
        run = record["run"]
        if run is not None:
            run = Run(**{**run, "recipients": [tuple(r) for r in run["recipients"]]})
        return cls(
            id=record["id"],
            kind=record["kind"],
            doc=record["doc"],
            ready_at=record["ready_at"],
            run=run,
            starts_at=record.get("starts_at"),
            history=[(str(status), float(at)) for status, at in record.get("history") or ()],
            due=int(record.get("due") or 0),
        )


def new_id(prefix: str) -> str:
    """Kore.ai-style ids: cd-… for campaigns, ci-… for campaign instances."""
    return f"{prefix}-{uuid.uuid4()}"


def sms_fields(body: dict[str, Any], template: Template | None) -> dict[str, Any]:
    """The stored fields of an SMS campaign made from a (validated) create body."""
    hours = body["dialingStrategy"]["callingHours"]
    fields: dict[str, Any] = {"description": body["description"]}
    dnc = body.get("dncLists")
    if isinstance(dnc, dict) and dnc.get("name") is not None:
        fields["dncLists"] = {"name": dnc["name"]}
    fields.update(
        priority=body["priority"],
        dialingStrategy={
            "callerId": {"phoneNumber": body["dialingStrategy"]["callerId"]["phoneNumber"]},
            "callingHours": {
                "frequency": hours["frequency"],
                "timezone": hours["timezone"],
                "days": [{"day": d["day"], "start": d["start"], "end": d["end"]} for d in hours["days"]],
            },
        },
        contactLists=list(body["contactLists"]),
        format=body["format"],
        direction=body["format"],
    )
    message = body.get("message") or {}
    if template is not None:
        fields["message"] = {
            "template_name": message["template_name"],
            "message": message["message"],
            "templateId": template.id,
        }
    elif message:  # without a template: the text as sent
        fields["message"] = {"message": message["message"]}
    if body.get("experienceFlowName"):  # an advanced campaign shows its flow's id, as Kore's sample
        fields["experienceFlow"] = f"cf-{uuid.uuid5(uuid.NAMESPACE_URL, body['experienceFlowName'])}"
    return fields


def _voice_fields() -> dict[str, Any]:
    """Default fields of a seeded voice campaign, shaped like the voice delete sample."""
    sample = sample_create_body()
    return {
        "description": "Voice campaign seeded in the sandbox",
        "priority": "5",
        "dialingMode": "Progressive",
        "dialingStrategy": {
            **sample["dialingStrategy"],
            "dialingOrder": "FIFO",
            "maxAttemptsPerRecord": 3,
            "defaultRetryPeriod": 10,
            "maxRingTime": 30,
            "useSystemMappings": False,
        },
        "contactLists": sample["contactLists"],
    }


class Store:
    """The sandbox's account: reference data, campaigns, messages."""

    def __init__(self, config: SandboxConfig, db: Database | None = None) -> None:
        self.config = config
        self.forced_statuses: dict[str, str] = {}
        self._db = db
        self._counter = itertools.count()
        self._clear()

    def _clear(self) -> None:
        self.contact_lists = ContactListBook(self._save_contact_list if self._db is not None else None)
        self.dnc_lists: dict[str, list[str]] = {}
        self.templates: dict[str, Template] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.deleted_ids: set[str] = set()
        self.messages: list[Message] = []
        self._by_lname: dict[str, list[str]] = {}  # ids in creation order: names repeat when not refused
        self._messages_by_campaign: defaultdict[str, list[Message]] = defaultdict(list)
        self._heap: list[tuple[float, int, str, int]] = []

    def _transaction(self) -> AbstractContextManager[None]:
        return self._db.transaction() if self._db is not None else nullcontext()

    # ----------------------------------------------------------------- setup and reset
    def start(self, seed: Seed, now: float) -> None:
        """Load the database's state if it holds one, else apply `seed`."""
        if self._db is not None and self._db.initialized():
            self._load(self._db.load(), now)
        else:
            self.reset(seed, now)

    def reset(self, seed: Seed, now: float) -> None:
        """Forget everything and apply `seed` (its campaigns included)."""
        self._clear()
        with self._transaction():
            if self._db is not None:
                self._db.wipe()
            for kind in ResourceKind:
                for name, value in getattr(seed, kind.attr).items():
                    self.put_resource(kind, name, value)
            if seed.campaigns:
                self.seed_campaigns(seed.campaigns, now)
            if self._db is not None:
                self._db.mark_initialized()

    def _load(self, snap: Snapshot, now: float) -> None:
        self._clear()
        for kind_value, name, value in snap.resources:
            kind = ResourceKind(kind_value)
            if kind is ResourceKind.CONTACT_LISTS:
                self.contact_lists.restore(name, value)
            else:
                getattr(self, kind.attr)[name] = (
                    Template(**value) if kind is ResourceKind.TEMPLATES else value
                )
        for record in snap.campaigns:
            self._add(Campaign.from_record(record))
        self.deleted_ids.update(snap.deleted)
        for row in snap.messages:
            campaign = self.campaigns.get(row[0])
            self._record(Message(*row, text=campaign.text if campaign else ""))
        for campaign in self.campaigns.values():
            if campaign.ready_at is not None:
                self._schedule(campaign, campaign.ready_at)
            elif campaign.run is not None:
                self._schedule(campaign, campaign.run.next_event())
            elif campaign.starts_at is not None:
                self._schedule(campaign, campaign.starts_at)
        self.advance(now)

    # ----------------------------------------------------------------- reference data
    def put_resource(self, kind: ResourceKind, name: str, value: list[str] | Template) -> None:
        """Create or replace a contact list, DNC list (phone numbers) or template."""
        getattr(self, kind.attr)[name] = value
        if self._db is not None and kind is not ResourceKind.CONTACT_LISTS:  # the book saves lists
            self._db.put_resource(kind.value, name, asdict(value) if isinstance(value, Template) else value)

    def delete_resource(self, kind: ResourceKind, name: str) -> None:
        """Remove a contact list, DNC list or template (404 when unknown)."""
        if getattr(self, kind.attr).pop(name, None) is None:
            raise not_found(kind.value.rstrip("s").replace("-", " ").capitalize())
        if self._db is not None and kind is not ResourceKind.CONTACT_LISTS:
            self._db.delete_resource(kind.value, name)

    def _save_contact_list(self, name: str, record: dict[str, Any] | None) -> None:
        assert self._db is not None
        if record is None:
            self._db.delete_resource(ResourceKind.CONTACT_LISTS.value, name)
        else:
            self._db.put_resource(ResourceKind.CONTACT_LISTS.value, name, record)

    def campaigns_using(self, list_name: str) -> list[Campaign]:
        """Live campaigns whose ``contactLists`` name this list."""
        return [c for c in self.campaigns.values() if list_name in (c.doc.get("contactLists") or ())]

    def name_taken(self, name: str) -> bool:
        """True when a live campaign already has this name, case-insensitively, and the sandbox
        refuses taken names (``refuse_taken_names``; Kore does not document that it does)."""
        return self.config.refuse_taken_names and name.lower() in self._by_lname

    def find_by_name(self, name: str, now: float) -> Campaign | None:
        """The oldest live campaign with this name, case-insensitively (schedules are keyed by name)."""
        self.advance(now)
        ids = self._by_lname.get(name.lower())
        return self.campaigns.get(ids[0]) if ids else None

    def _unindex_name(self, c: Campaign) -> None:
        ids = self._by_lname.get(str(c.doc["lname"]), [])
        if c.id in ids:
            ids.remove(c.id)
        if not ids:
            self._by_lname.pop(str(c.doc["lname"]), None)

    # ----------------------------------------------------------------- the clock
    def advance(self, now: float) -> None:
        """Apply every lifecycle event due by `now`: imports, Ready transitions, messages, completions."""
        self.contact_lists.advance(now)
        heap = self._heap
        if not heap or heap[0][0] > now:
            return
        changed: list[Campaign] = []
        sent: list[Message] = []
        while heap and heap[0][0] <= now:
            _, _, cid, version = heapq.heappop(heap)
            campaign = self.campaigns.get(cid)
            if campaign is None or campaign.version != version:
                continue
            self._step(campaign, now, sent)
            changed.append(campaign)
        self._save(changed, sent)

    def _step(self, c: Campaign, now: float, sent: list[Message]) -> None:
        if c.ready_at is not None:
            if now < c.ready_at:
                self._schedule(c, c.ready_at)
                return
            c.set_status(READY, c.ready_at)
            c.ready_at = None
        if c.starts_at is not None and c.run is None:
            if now < c.starts_at:
                self._schedule(c, c.starts_at)
                return
            self._start_run(c, c.starts_at, None)
            c.starts_at = None
        run = c.run
        if run is None:
            return
        due = run.due(now)
        for k in range(run.done, due):
            phone, contact_list = run.recipients[k]
            message = Message(c.id, phone, contact_list, run.message_time(k), c.kind, c.text)
            self._record(message)
            sent.append(message)
        run.done = due
        c.doc["totalMessagesSent"] = len(c.sent)
        if now >= run.finish_at:
            c.set_status(COMPLETED, run.finish_at)
            c.run = None
            self._plan_next_run(c, run.finish_at)
        else:
            self._schedule(c, run.next_event())

    def _schedule(self, c: Campaign, at: float) -> None:
        heapq.heappush(self._heap, (at, next(self._counter), c.id, c.version))

    def _record(self, message: Message) -> None:
        self.messages.append(message)
        self._messages_by_campaign[message.campaign_id].append(message)
        campaign = self.campaigns.get(message.campaign_id)
        if campaign is not None:
            campaign.sent.add(message.phone)

    def _save(self, campaigns: Iterable[Campaign], messages: list[Message] | None = None) -> None:
        if self._db is None:
            return
        with self._db.transaction():
            if messages:
                self._db.add_messages(
                    (m.campaign_id, m.phone, m.contact_list, m.sent_at, m.channel) for m in messages
                )
            self._db.save_campaigns((c.id, c.to_record()) for c in campaigns)

    # ----------------------------------------------------------------- campaigns
    def _add(self, c: Campaign) -> None:
        self.campaigns[c.id] = c
        self._by_lname.setdefault(str(c.doc["lname"]), []).append(c.id)

    def _new(self, kind: str, fields: dict[str, Any], status: str, now: float) -> Campaign:
        cid = fields.pop("_id", None) or new_id("cd")
        name = fields.pop("name", None) or f"Sandbox {kind} campaign {cid[-12:]}"
        stamp = iso(now)
        doc: dict[str, Any] = {
            "_id": cid,
            "name": name,
            "lname": name.lower(),
            "description": fields.pop("description", ""),
            "status": status,
        }
        doc.update((k, v) for k, v in fields.items() if k not in DERIVED_FIELDS)
        defaults: dict[str, Any] = {
            "isImported": False,
            "isFiltersEnabled": False,
            "createdAt": stamp,
            "updatedAt": stamp,
            "schedule": {"isSchedulingEnabled": False, "isRecurrenceEnabled": False},
            "contactLists": [],
        }
        if kind == "voice":
            del defaults["isImported"]
        for key, value in defaults.items():
            doc.setdefault(key, value)
        doc["totalMessagesSent"] = 0
        return Campaign(id=cid, kind=kind, doc=doc, history=[(status, now)])

    def create_sms(self, body: dict[str, Any], now: float) -> Campaign:
        """Create an SMS campaign from a validated create body: Preparing, then Ready."""
        template_name = (body.get("message") or {}).get("template_name")
        template = self.templates[template_name] if template_name is not None else None
        fields = {"name": body["name"], **sms_fields(body, template)}
        preparing = self.config.preparing_seconds
        c = self._new("sms", fields, PREPARING if preparing > 0 else READY, now)
        self._enter(c, now, ready_in=preparing)
        return c

    def _enter(
        self, c: Campaign, now: float, *, ready_in: float | None = None, complete_in: float | None = None
    ) -> None:
        """Add a new campaign, scheduling its Ready transition or its run."""
        self._add(c)
        if c.status == PREPARING:
            c.ready_at = now + (ready_in or 0.0)
            self._schedule(c, c.ready_at)
        elif c.status == ACTIVE:
            self._start_run(c, now, complete_in)
        self._save([c])

    def get(self, campaign_id: str, now: float, kind: str | None = None) -> Campaign:
        """The live campaign with this id (and kind, when given), else 404."""
        self.advance(now)
        c = self.campaigns.get(campaign_id)
        if c is None or (kind is not None and c.kind != kind):
            raise not_found()
        return c

    def view(self, c: Campaign) -> dict[str, Any]:
        """The campaign as the API shows it (a forced status replaces the real one)."""
        doc = dict(c.doc)
        forced = self.forced_statuses.get(c.id)
        if forced is not None:
            doc["status"] = forced
        return doc

    def play(self, c: Campaign, now: float) -> Run:
        """Start or resume sending; never to a number that already got this campaign's message."""
        if c.status not in PLAYABLE:
            raise KoreError(
                412, f"status: campaign is {c.status}; it can be started only when {', '.join(PLAYABLE)}"
            )
        run = self._start_run(c, now, None)
        self._save([c])
        return run

    def _start_run(self, c: Campaign, now: float, complete_in: float | None) -> Run:
        recipients = self._recipients(c)
        n = len(recipients)
        if complete_in is None:
            interval = self.config.send_interval_seconds
            complete_in = n * interval
            if c.kind == "voice":
                phones = (phone for phone, _ in recipients)
                complete_in += dialer.retry_tail(c.doc, phones, self.config.retry_minute_seconds)
        else:
            interval = complete_in / n if n else 0.0
        hours = (
            c.doc.get("dialingStrategy", {}).get("callingHours")
            if self.config.enforce_calling_hours
            else None
        )
        finish = calling_hours.wall_time(hours, now, complete_in)
        c.run = Run(new_id("ci"), now, interval, finish, recipients, hours=hours)
        c.due += n
        c.version += 1
        c.set_status(ACTIVE, now)
        c.doc["campaignInstanceId"] = c.run.instance_id
        self._schedule(c, c.run.next_event())
        return c.run

    def _recipients(self, c: Campaign) -> list[tuple[str, str]]:
        dnc = c.doc.get("dncLists")
        dnc_name = dnc.get("name") if isinstance(dnc, dict) else None
        skip = set(self.dnc_lists.get(dnc_name, ())) if isinstance(dnc_name, str) else set()
        skip |= c.sent
        out: list[tuple[str, str]] = []
        for list_name in c.doc.get("contactLists") or ():
            for phone in self.contact_lists.get(list_name, ()):
                if phone not in skip:
                    skip.add(phone)
                    out.append((phone, list_name))
        return out

    def stop(self, c: Campaign, now: float) -> None:
        """Stop sending (what was due by now has been sent)."""
        if c.status not in STOPPABLE:
            raise KoreError(
                412, f"status: campaign is {c.status}; it can be stopped only when {', '.join(STOPPABLE)}"
            )
        c.run = None
        c.starts_at = None
        c.version += 1
        c.set_status(STOPPED, now)
        self._save([c])

    # ----------------------------------------------------------------- voice, updates, schedules
    def create_voice(self, fields: dict[str, Any], now: float) -> Campaign:
        """Create a voice campaign from validated, stored-shape fields: always Preparing first."""
        c = self._new("voice", dict(fields), PREPARING, now)
        self._enter(c, now, ready_in=self.config.preparing_seconds)
        return c

    def update(self, c: Campaign, fields: dict[str, Any], now: float) -> None:
        """Replace a campaign's editable fields (the PUT body is the full object); not while Active."""
        if c.status == ACTIVE:
            raise KoreError(412, f"status: campaign is {c.status}; stop it before updating it")
        name = str(fields["name"])
        if name.lower() != c.doc["lname"] and self.name_taken(name):
            raise KoreError(412, f"name: a campaign named {name!r} already exists")
        self._unindex_name(c)
        kept = {key: c.doc[key] for key in UPDATE_KEEPS if key in c.doc}
        c.doc = {**kept, **fields, "lname": name.lower()}
        c.doc["updatedAt"] = iso(now)
        self._by_lname.setdefault(name.lower(), []).append(c.id)
        self._save([c])

    def enable_schedule(self, c: Campaign, schedule: dict[str, Any], now: float) -> None:
        """Turn the campaign's schedule on (replacing any): it becomes Scheduled until its next run."""
        if c.status not in SCHEDULABLE:
            raise KoreError(
                412, f"status: campaign is {c.status}; a schedule applies only when {', '.join(SCHEDULABLE)}"
            )
        c.doc["schedule"] = {"isSchedulingEnabled": True, "isRecurrenceEnabled": True, **schedule}
        c.version += 1
        if not self._plan_next_run(c, now):
            raise KoreError(412, "endDateTime: the schedule has no run left before its end")
        self._save([c])

    def disable_schedule(self, c: Campaign, now: float) -> None:
        """Turn the schedule off; a campaign waiting for it is Ready again (a running one runs on)."""
        c.doc["schedule"] = dict(schedules.SCHEDULE_OFF)
        if c.status == SCHEDULED:
            c.starts_at = None
            c.version += 1
            c.set_status(READY, now)
        self._save([c])

    def _plan_next_run(self, c: Campaign, after: float) -> bool:
        """Make the campaign Scheduled for its schedule's next run after ``after``, if any."""
        starts_at = schedules.next_start(c.doc, after)
        if starts_at is None:
            return False
        c.starts_at = starts_at
        c.set_status(SCHEDULED, after)
        self._schedule(c, starts_at)
        return True

    def contact_results(self, c: Campaign, now: float) -> list[dict[str, Any]]:
        """Per-contact rows of a voice campaign as of now: dialed contacts, then those still to dial."""
        self.advance(now)
        until = now if c.status != STOPPED else _epoch(str(c.doc["updatedAt"]))
        minute = self.config.retry_minute_seconds
        rows = [
            dialer.contact_result(m.phone, m.sent_at, until, c.doc, minute)
            for m in self._messages_by_campaign.get(c.id, ())
        ]
        if c.run is not None:
            rows += [
                dialer.contact_result(phone, None, until, c.doc, minute)
                for phone, _ in c.run.recipients[c.run.done :]
            ]
        return rows

    def delete(self, c: Campaign) -> dict[str, Any]:
        """Delete in any status (an active run stops at once); returns the last view."""
        view = self.view(c)
        del self.campaigns[c.id]
        self._unindex_name(c)
        self.deleted_ids.add(c.id)
        c.version += 1
        if self._db is not None:
            self._db.delete_campaign(c.id)
        return view

    def list_views(self, q: ListQuery, now: float) -> tuple[list[dict[str, Any]], int]:
        """One page of campaign views and the total number matching the query."""
        self.advance(now)
        views = [self.view(c) for c in self.campaigns.values() if q.type is None or c.kind == q.type]
        if q.statuses is not None:
            views = [v for v in views if v["status"] in q.statuses]
        if q.created_from is not None or q.created_until is not None:
            low = -math.inf if q.created_from is None else q.created_from
            high = math.inf if q.created_until is None else q.created_until
            views = [v for v in views if low <= _epoch(str(v["createdAt"])) <= high]
        # ties in the sorted field keep an order that every page agrees on: by id
        views.sort(key=lambda v: (str(v.get(q.sort_key, "")), str(v["_id"])), reverse=q.descending)
        return views[q.offset : q.offset + q.limit], len(views)

    def messages_of(self, campaign_id: str | None, now: float) -> list[Message]:
        """Messages sent so far, by one campaign or by all, oldest first."""
        self.advance(now)
        if campaign_id is None:
            return list(self.messages)
        return list(self._messages_by_campaign.get(campaign_id, ()))

    # ----------------------------------------------------------------- seeding
    def seed_campaigns(self, specs: Any, now: float) -> list[str]:
        """Add campaigns in any status straight into the account (400 naming every bad spec).

        Each spec: {"status": "Ready", "campaign_type": "sms"|"voice", "fields": {...Kore fields...},
        "complete_in_seconds": s (Active: when the run completes), "ready_in_seconds": s (Preparing)}.
        """
        if not isinstance(specs, list):
            raise KoreError(400, "campaigns: must be an array of campaign specs")
        problems: list[str] = []
        names: set[str] = set()
        ids: set[str] = set()
        planned = [self._plan_seed(i, spec, names, ids, problems) for i, spec in enumerate(specs)]
        if problems:
            raise KoreError(400, problems)
        created: list[str] = []
        with self._transaction():
            for kind, fields, status, ready_in, complete_in in filter(None, planned):
                c = self._new(kind, fields, status, now)
                self._enter(c, now, ready_in=ready_in, complete_in=complete_in)
                created.append(c.id)
        return created

    def _plan_seed(
        self, i: int, spec: Any, names: set[str], ids: set[str], problems: list[str]
    ) -> tuple[str, dict[str, Any], str, float | None, float | None] | None:
        where = f"campaigns[{i}]"
        before = len(problems)
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be an object")
            return None
        problems.extend(f"{where}.{key}: unknown key" for key in sorted(set(spec) - SEED_KEYS))
        status = spec.get("status", READY)
        if status not in KNOWN_STATUSES:
            problems.append(f"{where}.status: must be one of {', '.join(KNOWN_STATUSES)}")
        kind = spec.get("campaign_type", "sms")
        if kind not in ("sms", "voice"):
            problems.append(f"{where}.campaign_type: must be sms or voice")
        ready_in = _seconds(spec, "ready_in_seconds", status == PREPARING, where, problems)
        complete_in = _seconds(spec, "complete_in_seconds", status == ACTIVE, where, problems)
        given = spec.get("fields", {})
        if not isinstance(given, dict) or not is_plain_json(given):
            problems.append(f"{where}.fields: must be a JSON object (no NaN or Infinity)")
            return None
        fields = self._seed_fields(kind, given)
        self._check_seed_fields(where, fields, names, ids, problems)
        if len(problems) > before:
            return None
        if ready_in is None and status == PREPARING:
            ready_in = self.config.preparing_seconds
        return kind, fields, status, ready_in, complete_in

    def _seed_fields(self, kind: str, given: dict[str, Any]) -> dict[str, Any]:
        if kind == "voice":
            defaults = _voice_fields()
        else:
            sample = sample_create_body()
            template = self.templates.get(sample["message"]["template_name"], Template(body="", id=""))
            defaults = sms_fields(sample, template)
            defaults["description"] = "SMS campaign seeded in the sandbox"
            if defaults["dncLists"]["name"] not in self.dnc_lists:
                del defaults["dncLists"]
            if given.get("format", "simple") != "simple":  # not a template campaign (e.g. a bot flow)
                del defaults["message"], defaults["direction"]
        if defaults["contactLists"][0] not in self.contact_lists:  # a custom seed: use its first list
            defaults["contactLists"] = list(self.contact_lists)[:1]
        return {**defaults, **given}

    def _check_seed_fields(
        self, where: str, fields: dict[str, Any], names: set[str], ids: set[str], problems: list[str]
    ) -> None:
        cid = fields.get("_id")
        if cid is not None:
            if (
                not isinstance(cid, str)
                or not cid
                or cid in self.campaigns
                or cid in self.deleted_ids
                or cid in ids
            ):
                problems.append(f"{where}.fields._id: must be a new, non-empty string")
            else:
                ids.add(cid)
        name = fields.get("name")
        if name is not None:
            if not isinstance(name, str) or not name.strip():
                problems.append(f"{where}.fields.name: must be a non-blank string")
            elif self.name_taken(name) or name.lower() in names:
                problems.append(f"{where}.fields.name: a campaign named {name!r} already exists")
            else:
                names.add(name.lower())
        lists = fields.get("contactLists")
        if not isinstance(lists, list) or any(
            not isinstance(x, str) or x not in self.contact_lists for x in lists
        ):
            problems.append(f"{where}.fields.contactLists: must be an array of existing contact list names")
        dnc = fields.get("dncLists")
        dnc_name = dnc.get("name") if isinstance(dnc, dict) else None
        if dnc is not None and (not isinstance(dnc_name, str) or dnc_name not in self.dnc_lists):
            problems.append(f'{where}.fields.dncLists: must be {{"name": <existing DNC list>}}')

    def summary(self, now: float) -> dict[str, Any]:
        """Admin view: every live campaign with its real and shown status, and what was deleted."""
        self.advance(now)
        counts: defaultdict[str, int] = defaultdict(int)
        items = []
        for c in self.campaigns.values():
            counts[c.status] += 1
            run = c.run
            items.append(
                {
                    "id": c.id,
                    "campaignType": c.kind,
                    "status": c.status,
                    "shownStatus": self.view(c)["status"],
                    "name": c.doc["name"],
                    "totalMessagesSent": len(c.sent),
                    "pendingMessages": len(run.recipients) - run.done if run else 0,
                    "completesAt": iso(run.finish_at) if run else None,
                    "history": [{"status": status, "at": iso(at)} for status, at in c.history],
                    "contactLists": list(c.doc.get("contactLists") or ()),
                    "dncList": (c.doc.get("dncLists") or {}).get("name"),
                    "due": c.due,
                    "callingHours": c.doc.get("dialingStrategy", {}).get("callingHours"),
                    "text": c.text,
                }
            )
        return {
            "campaigns": items,
            "liveCount": len(items),
            "deletedCount": len(self.deleted_ids),
            "byStatus": dict(counts),
            "messageCount": len(self.messages),
        }


def _epoch(stamp: str) -> float:
    """Epoch seconds of one of the sandbox's own ISO 8601 timestamps."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _seconds(spec: dict[str, Any], key: str, allowed: bool, where: str, problems: list[str]) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if not allowed:
        problems.append(f"{where}.{key}: only applies to the status it is named for")
    elif isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1e7:
        problems.append(f"{where}.{key}: must be a number of seconds >= 0")
    else:
        return float(value)
    return None
