"""The account's contact lists: their settings, their contacts, and imports still in progress.

Kore adds contacts asynchronously ("Adding contacts … is in progress"): an ``addContacts`` call
queues its numbers, which join the list ``contact_import_seconds`` later. A list that does not
allow duplicates skips a number it already holds (or that the same import repeats). Campaigns
read a list through the ``Mapping`` interface (name to phone numbers), so a list created through
the API feeds campaigns exactly as a seeded one does.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from airflow_campaign_provider.sandbox.errors import KoreError, not_found
from airflow_campaign_provider.sandbox.jsonutil import iso

#: The contact mapping every list shows (Kore's sample), fixed for lists filled through the API.
MAPPING = {
    key: key for key in ("firstName", "lastName", "phoneNumber", "timeZone", "uniqueId", "contactPriority")
}
SANDBOX_USER = "u-sandbox-0000-4000-8000-000000000001"
_CONTACT_IDS = uuid.UUID("6f1f9d0c-6a8e-4c55-9a63-5b7b8f1f2a10")


@dataclass
class ContactList:
    """One list: its settings, its numbers in import order, and when each import landed."""

    id: str
    name: str
    description: str
    allow_duplicates: bool
    created_at: float
    updated_at: float
    phones: list[str] = field(default_factory=list)
    imports: list[tuple[int, float]] = field(default_factory=list)  # (first index, landed at)
    present: set[str] = field(default_factory=set, repr=False)

    def land(self, phones: list[str], now: float) -> int:
        """Add an import's numbers (duplicates skipped unless allowed); returns how many joined."""
        start = len(self.phones)
        for phone in phones:
            if self.allow_duplicates or phone not in self.present:
                self.present.add(phone)
                self.phones.append(phone)
        if len(self.phones) > start:
            self.imports.append((start, now))
            self.updated_at = now
        return len(self.phones) - start

    def contact(self, index: int, digits: bool = True) -> dict[str, Any]:
        """Contact ``index`` as ``getAllContacts`` shows it: its number without ``+`` (Kore's
        sample), unless ``digits`` is False."""
        at = iso(self.imports[bisect.bisect_right(self.imports, (index, float("inf"))) - 1][1])
        contact_id = uuid.uuid5(_CONTACT_IDS, f"{self.id}/{index}")
        return {
            "_id": f"cc-{contact_id}",
            "createdAt": at,
            "updatedAt": at,
            "phoneNumber": self.phones[index].lstrip("+") if digits else self.phones[index],
        }

    def view(self, campaigns_in_use: list[Any]) -> dict[str, Any]:
        """The list as Kore's get/create/delete answers show it."""
        return {
            "_id": self.id,
            "isActive": True,
            "name": self.name,
            "lname": self.name.lower(),
            "description": self.description,
            "totalRecordCount": len(self.phones),
            "status": "Ready",
            "createdBy": SANDBOX_USER,
            "updatedBy": SANDBOX_USER,
            "mapping": dict(MAPPING),
            "isListInUse": bool(campaigns_in_use),
            "listType": "call",
            "isGlobalDNC": False,
            "isDefault": False,
            "campaignInUse": campaigns_in_use,
            "source": "passiveApi",
            "apiConfigurations": {"dataSyncMode": "allowDuplicates" if self.allow_duplicates else "unique"},
            "columns": [],
            "files": [],
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "allowDuplicates": self.allow_duplicates,
        }

    def to_record(self, pending: list[tuple[float, list[str]]]) -> dict[str, Any]:
        """JSON-able form for the database, imports still in progress included."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "allow_duplicates": self.allow_duplicates,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "phones": self.phones,
            "imports": self.imports,
            "pending": pending,
        }


class ContactListBook(MutableMapping[str, list[str]]):
    """Every contact list of the account, by name (for campaigns) and by id (for the API).

    ``on_change(name, record)`` is called after every change (``record`` None once deleted), so
    the store can write it through to its database.
    """

    def __init__(self, on_change: Callable[[str, dict[str, Any] | None], None] | None = None) -> None:
        self._by_name: dict[str, ContactList] = {}
        self._by_id: dict[str, ContactList] = {}
        self._pending: list[tuple[float, int, str, list[str]]] = []  # (due, seq, list id, phones)
        self._seq = itertools.count()
        self._on_change = on_change

    # ------------------------------------------------------------------ the Mapping campaigns read
    def __getitem__(self, name: str) -> list[str]:
        return self._by_name[name].phones

    def __setitem__(self, name: str, phones: list[str]) -> None:
        """Create or replace a list's numbers at once (seed and admin data, no import delay)."""
        existing = self._by_name.get(name)
        now = existing.updated_at if existing else 0.0
        cl = existing or ContactList(_new_id(), name, f"Contact list {name}", True, now, now)
        cl.phones, cl.imports, cl.present = [], [], set()
        cl.land(list(phones), now)
        self._put(cl)

    def __delitem__(self, name: str) -> None:
        self.remove(self._by_name[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    # ------------------------------------------------------------------ the API's operations
    def create(self, name: str, description: str, allow_duplicates: bool, now: float) -> ContactList:
        """A new, empty list; 412 when a list of that name (case-insensitively) exists."""
        self._check_name_free(name)
        cl = ContactList(_new_id(), name, description, allow_duplicates, now, now)
        self._put(cl)
        return cl

    def by_id(self, list_id: str) -> ContactList:
        """The list with this id, else 404."""
        cl = self._by_id.get(list_id)
        if cl is None:
            raise not_found("Contact list")
        return cl

    def by_name(self, name: str) -> ContactList:
        """The list with this exact name, else 404 (``addContacts`` names the list)."""
        cl = self._by_name.get(name)
        if cl is None:
            raise not_found("Contact list")
        return cl

    def lists(self) -> list[ContactList]:
        """Every list, oldest first."""
        return list(self._by_name.values())

    def change(self, cl: ContactList, name: str | None, description: str | None, now: float) -> None:
        """Rename and/or describe a list."""
        if name is not None and name != cl.name:
            self._check_name_free(name)
            self.remove(cl)
            cl.name = name
        if description is not None:
            cl.description = description
        cl.updated_at = now
        self._put(cl)

    def remove(self, cl: ContactList) -> None:
        """Delete a list; imports still queued for it are dropped."""
        self._remove(cl)
        if self._on_change is not None:
            self._on_change(cl.name, None)

    def queue_import(self, cl: ContactList, phones: list[str], due: float) -> None:
        """Queue numbers that join ``cl`` at ``due``."""
        heapq.heappush(self._pending, (due, next(self._seq), cl.id, phones))
        self._changed(cl)

    def advance(self, now: float) -> None:
        """Land every import due by ``now``."""
        changed: dict[str, ContactList] = {}
        while self._pending and self._pending[0][0] <= now:
            due, _, list_id, phones = heapq.heappop(self._pending)
            cl = self._by_id.get(list_id)
            if cl is not None:
                cl.land(phones, due)
                changed[cl.id] = cl
        for cl in changed.values():
            self._changed(cl)

    def contacts_page(
        self, cl: ContactList, skip: int, limit: int, digits: bool = True
    ) -> list[dict[str, Any]]:
        """Contacts ``skip`` to ``skip + limit`` of a list, in import order."""
        return [cl.contact(i, digits) for i in range(skip, min(skip + limit, len(cl.phones)))]

    def restore(self, name: str, value: Any) -> None:
        """Put back a list read from the database (a bare phone list is seed data)."""
        if isinstance(value, list):
            self[name] = value
            return
        cl = ContactList(
            value["id"],
            value["name"],
            value["description"],
            value["allow_duplicates"],
            value["created_at"],
            value["updated_at"],
            list(value["phones"]),
            [tuple(item) for item in value["imports"]],
        )
        cl.present = set(cl.phones)
        self._by_name[cl.name], self._by_id[cl.id] = cl, cl
        for due, phones in value["pending"]:
            heapq.heappush(self._pending, (due, next(self._seq), cl.id, phones))

    # ------------------------------------------------------------------ bookkeeping
    def _check_name_free(self, name: str) -> None:
        wanted = name.lower()
        if any(existing.lower() == wanted for existing in self._by_name):
            raise KoreError(412, f"name: a contact list named {name!r} already exists")

    def _put(self, cl: ContactList) -> None:
        self._by_name[cl.name], self._by_id[cl.id] = cl, cl
        self._changed(cl)

    def _remove(self, cl: ContactList) -> None:
        self._by_name.pop(cl.name, None)
        self._by_id.pop(cl.id, None)

    def _changed(self, cl: ContactList) -> None:
        if self._on_change is not None:
            pending = [(due, phones) for due, _, list_id, phones in sorted(self._pending) if list_id == cl.id]
            self._on_change(cl.name, cl.to_record(pending))


def _new_id() -> str:
    return f"cl-{uuid.uuid4()}"
