"""Operators for Kore.ai contact lists: create one exactly once, fill it exactly once, delete it.

Each is a screen over the units of :mod:`airflow_campaign_provider.lifecycle.contacts` (also
on the hook: ``create_contact_list_once``, ``upload_contacts_once``, ``delete_contact_list_once``),
so a TaskFlow task calling the hook gets the same guarantees. Input that can never succeed (a bad file, too many
bad numbers, a same-named list with other settings) fails the task without retries, before any
contact is sent. Importing this module stays cheap: DAG files import it at every parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import AirflowFailException
from airflow_campaign_provider.exceptions import (
    ContactFileError,
    ContactListConflictError,
    InvalidCampaignArgumentError,
    InvalidContactsError,
)
from airflow_campaign_provider.lifecycle import DEFAULT_BATCH_SIZE
from airflow_campaign_provider.operators.base import CampaignBaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

#: Errors that a retry cannot mend: the task fails at once, saying why.
_FINAL_ERRORS = (
    ContactFileError,
    ContactListConflictError,
    InvalidCampaignArgumentError,
    InvalidContactsError,
)


def _plain(value: Any) -> bool:
    """Whether ``value`` is known before rendering (not Jinja, not an XComArg)."""
    return isinstance(value, str) and "{{" not in value and "{%" not in value


def _at_least(field: str, value: Any, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise InvalidCampaignArgumentError(field, f"must be a number >= {minimum:g}, got {value!r}")


class _ContactListOperator(CampaignBaseOperator):
    """The connection, an optional stream and the hook (from ``CampaignBaseOperator``); bad input fails
    the task at once."""

    def execute(self, context: Context) -> Any:
        try:
            return self.run_once(context)
        except _FINAL_ERRORS as error:
            raise AirflowFailException(str(error)) from error

    def run_once(self, context: Context) -> Any:
        raise NotImplementedError


class CreateContactListOperator(_ContactListOperator):
    """
    Create a Kore.ai contact list to fill through the API, exactly once by name; returns its id.

    A list of that name (case-insensitively) with the same description and ``allow_duplicates``
    is reused, so a retry or a rerun creates nothing; one with other settings fails the task.

    :param name: The list's name, at most 48 characters.
    :param description: What the list holds, at most 256 characters.
    :param allow_duplicates: Whether Kore keeps a number added twice. Leave it False for uploads:
        a list that refuses duplicates is what makes resending a batch after a lost answer safe.
    """

    template_fields: Sequence[str] = ("kore_conn_id", "stream_id", "name", "description")

    def __init__(
        self, *, name: str, description: str = "", allow_duplicates: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.description = description
        self.allow_duplicates = allow_duplicates
        if _plain(name) and _plain(description):
            from airflow_campaign_provider.models.contact_list import ContactListCreate, checked

            checked(ContactListCreate, name=name, description=description, allowDuplicates=allow_duplicates)

    def run_once(self, context: Context) -> str:
        contact_list, created = self.hook.create_contact_list_once(
            self.name, self.description, self.allow_duplicates
        )
        verb = "Created" if created else "Reusing"
        self.log.info("%s contact list %r: %s.", verb, self.name, contact_list["_id"])
        return str(contact_list["_id"])


class UploadContactsOperator(_ContactListOperator):
    """
    Add phone numbers to a Kore.ai contact list, each exactly once, and wait until Kore holds them.

    ``contacts`` is a list (of numbers, or of mappings with ``phone_column``; an XCom works), a
    file path or an ``ObjectStoragePath`` (CSV, JSON Lines, or Parquet with pyarrow installed),
    streamed. Every number is read first (international format, or national with
    ``default_region``) and sent as E.164; unreadable rows are logged with their line, and more
    than ``max_invalid_rows`` fail the task. The list is read first, its numbers compared by value
    however Kore writes them, so a retry sends only what it lacks; a retry (try 2 on) first waits
    for an import an earlier try may have left in flight to land. Returns the counts: sent,
    already present, rejected, …

    :param contact_list_id: The list's id (``cl-…``), e.g. ``CreateContactListOperator``'s XCom.
    :param contacts: The numbers, or where to read them.
    :param phone_column: The column (CSV, Parquet) or field (JSON Lines, mappings) of the number.
    :param file_format: ``csv``, ``jsonl`` or ``parquet`` when the file's suffix does not say.
    :param default_region: Region (``"US"``, ``"GB"``…) of numbers written without a country code;
        defaults to the connection's ``default_region`` extra.
    :param max_invalid_rows: How many bad rows are skipped before the task fails instead.
    :param batch_size: Contacts per ``addContacts`` call; halved while Kore refuses it as too large.
    :param import_timeout: Seconds to wait for Kore's asynchronous import to show every contact.
    :param poll_interval: Seconds between two reads of the list's count.
    :param settle_seconds: On a retry (or for a list that keeps duplicates), how long the list's
        count must stand still before it is read: an import the failed try started lands first.
    """

    template_fields: Sequence[str] = (
        "kore_conn_id",
        "stream_id",
        "contact_list_id",
        "contacts",
        "phone_column",
    )

    def __init__(
        self,
        *,
        contact_list_id: str,
        contacts: Any,
        phone_column: str = "phone",
        file_format: str | None = None,
        default_region: str | None = None,
        max_invalid_rows: int = 0,
        batch_size: int = DEFAULT_BATCH_SIZE,
        import_timeout: float = 600.0,
        poll_interval: float = 5.0,
        settle_seconds: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _at_least("max_invalid_rows", max_invalid_rows, 0)
        _at_least("batch_size", batch_size, 1)
        _at_least("import_timeout", import_timeout, 0)
        _at_least("poll_interval", poll_interval, 0)
        _at_least("settle_seconds", settle_seconds, 0)
        self.contact_list_id = contact_list_id
        self.contacts = contacts
        self.phone_column = phone_column
        self.file_format = file_format
        if default_region is not None:
            from airflow_campaign_provider.phones import region_problem

            problem = region_problem(default_region, known=False)  # the task checks it is known
            if problem is not None:
                raise InvalidCampaignArgumentError("default_region", problem)
        self.default_region = default_region
        self.max_invalid_rows = int(max_invalid_rows)
        self.batch_size = int(batch_size)
        self.import_timeout = float(import_timeout)
        self.poll_interval = float(poll_interval)
        self.settle_seconds = float(settle_seconds)

    def run_once(self, context: Context) -> dict[str, Any]:
        from airflow_campaign_provider.contact_sources import ContactSource

        region = self.default_region or self.hook.settings.default_region
        source = ContactSource(
            self.contacts, phone_column=self.phone_column, file_format=self.file_format, default_region=region
        )
        checked = source.check(self.max_invalid_rows)
        self.log.info("%d contacts to upload, %d rejected.", checked.valid, checked.rejected)
        ti = context.get("ti")
        retry = int(getattr(ti, "try_number", 1) or 1) > 1
        report = self.hook.upload_contacts_once(
            self.contact_list_id,
            source.valid_phones(),
            batch_size=self.batch_size,
            count_timeout=self.import_timeout,
            poll_interval=self.poll_interval,
            default_region=region,
            settle_first=retry,
            settle_seconds=self.settle_seconds,
        )
        report.rejected = checked.rejected
        self.log.info(
            "Contact list %s holds %d contacts: %d sent now, %d were already there, %d rejected.",
            report.contact_list_id,
            report.total_in_list,
            report.sent,
            report.already_present,
            report.rejected,
        )
        return report.as_dict()


class DeleteContactListOperator(_ContactListOperator):
    """
    Delete a Kore.ai contact list; returns its id, or None when it was already gone.

    A list that a running campaign still uses is refused, unless ``stop_running_campaigns`` says
    to stop those campaigns first.

    :param contact_list_id: The list's id (``cl-…``).
    :param missing_ok: Succeed when the list does not exist (a retry, or a rerun of a teardown).
    :param stop_running_campaigns: Stop the running campaigns that use the list, then delete it.
    """

    template_fields: Sequence[str] = ("kore_conn_id", "stream_id", "contact_list_id")

    def __init__(
        self,
        *,
        contact_list_id: str,
        missing_ok: bool = False,
        stop_running_campaigns: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.contact_list_id = contact_list_id
        self.missing_ok = missing_ok
        self.stop_running_campaigns = stop_running_campaigns

    def run_once(self, context: Context) -> str | None:
        deleted = self.hook.delete_contact_list_once(
            self.contact_list_id,
            missing_ok=self.missing_ok,
            stop_running_campaigns=self.stop_running_campaigns,
        )
        if deleted is None:
            self.log.info("Contact list %s does not exist; nothing to delete.", self.contact_list_id)
            return None
        self.log.info("Deleted contact list %r (%s).", deleted.get("name"), self.contact_list_id)
        return self.contact_list_id
