"""Contact lists on ``CampaignHook``: one thin method per Kore contact-list call.

The exactly-once units (create a list once, upload once, wait for the count, delete once) live
in :mod:`airflow_campaign_provider.lifecycle.contacts`; ``CampaignHook`` binds them as its
``*_once`` methods, with the other units. Every call goes through the hook's normal request
path (``run``), so it spends the account's one request budget like every other call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from airflow_campaign_provider._lazy import lazy_names
from airflow_campaign_provider.api import (
    ContactListRequests,
    parse_contact_list,
    parse_contact_lists,
    parse_contacts_page,
    parse_contacts_queued,
)
from airflow_campaign_provider.lifecycle import DEFAULT_BATCH_SIZE
from airflow_campaign_provider.paging import MAX_CONTACT_PAGES, Page, pages
from airflow_campaign_provider.phones import phone_key

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_campaign_provider.api import ApiAnswer, ApiRequest
    from airflow_campaign_provider.lifecycle.contacts import UploadReport
    from airflow_campaign_provider.models.connection import KoreConnectionSettings

__all__ = ["DEFAULT_BATCH_SIZE", "ContactListHookMixin", "UploadReport"]


#: ``UploadReport``, still importable from here, loaded with the contact-list units.
__getattr__ = lazy_names(__name__, {"UploadReport": "airflow_campaign_provider.lifecycle.contacts"})


class Transport(Protocol):
    """What the contact-list calls need of their hook: its settings and its request path."""

    @property
    def settings(self) -> KoreConnectionSettings: ...

    def run(self, request: ApiRequest) -> ApiAnswer: ...


def _requests(hook: Transport) -> ContactListRequests:
    return ContactListRequests(hook.settings)


class ContactListHookMixin:
    """The contact-list half of ``CampaignHook``, which supplies ``settings`` and ``run``."""

    # --- the calls ----------------------------------------------------------------------------

    def create_contact_list(
        self: Transport, name: str, description: str, allow_duplicates: bool = False
    ) -> dict[str, Any]:
        """Create an empty list (``source: passiveApi``); its id is ``_id``. Not replayed blindly."""
        from airflow_campaign_provider.models.contact_list import ContactListCreate, checked

        body = checked(
            ContactListCreate, name=name, description=description, allowDuplicates=allow_duplicates
        )
        return parse_contact_list(self.run(_requests(self).create_contact_list(body)))

    def get_contact_list(self: Transport, contact_list_id: str) -> dict[str, Any]:
        """A list's details, ``totalRecordCount`` and ``campaignInUse`` included."""
        return parse_contact_list(self.run(_requests(self).get_contact_list(contact_list_id)))

    def iter_contact_lists(self: Transport) -> Iterator[dict[str, Any]]:
        """Every contact list of the account (Kore answers them in one page)."""
        yield from parse_contact_lists(self.run(_requests(self).list_contact_lists()))

    def find_contact_list_by_name(self: Transport, name: str) -> dict[str, Any] | None:
        """The list whose name matches case-insensitively, or None."""
        from airflow_campaign_provider.lifecycle.contacts import find_contact_list_by_name

        lists = parse_contact_lists(self.run(_requests(self).list_contact_lists()))
        return find_contact_list_by_name(lists, name)

    def update_contact_list(
        self: Transport, contact_list_id: str, *, name: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        """Rename and/or describe a list; answers ``{contactListId, body}``."""
        from airflow_campaign_provider.models.contact_list import ContactListUpdate, checked

        body = checked(ContactListUpdate, name=name, description=description)
        answer = self.run(_requests(self).update_contact_list(contact_list_id, body))
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        if not isinstance(data, dict):
            raise answer.fail("answer lacks data")
        return data

    def delete_contact_list(self: Transport, contact_list_id: str) -> dict[str, Any]:
        """Delete a list; answers the deleted list."""
        return parse_contact_list(self.run(_requests(self).delete_contact_list(contact_list_id)))

    def iter_contacts(
        self: Transport, contact_list_id: str, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """A list's contacts, page by page (one call per page), through the bounded pager."""
        api = _requests(self)

        def fetch(_index: int, read: int) -> Page:
            page = parse_contacts_page(self.run(api.list_contacts(contact_list_id, read, page_size)))
            return Page(page.results, page.has_more, page.total_pages)

        path = api.list_contacts(contact_list_id, 0, page_size).path
        for rows in pages(
            fetch,
            what=f"the contacts of list {contact_list_id}",
            page_size=page_size,
            max_pages=MAX_CONTACT_PAGES,
            method="GET",
            path=path,
        ):
            yield from rows

    def add_contacts(self: Transport, contact_list_name: str, phones: list[str]) -> str:
        """One ``addContacts`` call of numbers sent as E.164 (validated first: every unreadable
        number named in one error); answers Kore's "in progress" message."""
        from airflow_campaign_provider.models.contact_list import AddContactsBody, checked

        body = checked(
            AddContactsBody,
            contact_list_name=contact_list_name,
            data=[{"phoneNumber": phone_key(phone)} for phone in phones],
        )
        return parse_contacts_queued(self.run(_requests(self).add_contacts(body)))
