"""Where an upload's phone numbers come from: a Python list (or an XCom of one), or a file.

Files are read through ``ObjectStoragePath`` (local paths, ``s3://``, ``gs://``…) as CSV, JSON Lines
or, when pyarrow is installed, Parquet — streamed row by row, never read whole into memory.
Every number is read with libphonenumber (:mod:`.phones`: international or, with a
``default_region``, national format) in a first pass that reports each unreadable row by its line;
only then does a second pass hand the numbers, as E.164, to the upload.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.exceptions import ContactFileError, InvalidContactsError
from airflow_campaign_provider.phones import PhoneNumberProblem, normalise_region, to_e164

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
#: Bad rows logged one by one; past this many only their number is given.
MAX_REPORTED_ROWS = 100
PARQUET_BATCH_ROWS = 10_000


@dataclass
class SourceCheck:
    """The first pass: how many rows are valid, and one line per rejected row."""

    valid: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)


class ContactSource:
    """Phone numbers from ``contacts``: a list (strings, or mappings with ``phone_column``), a
    path or an ``ObjectStoragePath`` (format from the suffix unless ``file_format`` is given).
    ``default_region`` (``"US"``…) reads numbers written without their country code."""

    def __init__(
        self,
        contacts: Any,
        *,
        phone_column: str = "phone",
        file_format: str | None = None,
        default_region: str | None = None,
    ) -> None:
        self.phone_column = phone_column
        try:
            self.default_region = normalise_region(default_region)
        except PhoneNumberProblem as error:
            raise ContactFileError(str(error)) from None
        self.items: list[Any] | None = None
        self.path: ObjectStoragePath | None = None
        self.file_format = ""
        if isinstance(contacts, (list, tuple)):
            self.items = list(contacts)
            return
        self.path = _storage_path(contacts)
        self.file_format = (file_format or FORMATS.get(Path(self.path.name).suffix.lower(), "")).lower()
        if self.file_format not in set(FORMATS.values()):
            raise ContactFileError(
                f"file_format: {self.path.name} needs one of csv, jsonl, parquet "
                f"(from its suffix or file_format), got {file_format or Path(self.path.name).suffix!r}"
            )
        if self.file_format == "parquet":
            try:
                import pyarrow.parquet  # noqa: F401
            except ImportError:
                raise ContactFileError(
                    f"contacts: reading {self.path.name} needs pyarrow, which is not installed"
                ) from None
        try:
            exists = self.path.is_file()
        except OSError as error:
            raise ContactFileError(f"contacts: cannot reach {self.path}: {error}") from error
        if not exists:
            raise ContactFileError(f"contacts: file {self.path} does not exist")

    def rows(self) -> Iterator[tuple[str, Any]]:
        """``(where, phone value)`` of every row: ``where`` is ``line N`` or ``contacts[i]``."""
        if self.items is not None:
            for index, item in enumerate(self.items):
                yield f"contacts[{index}]", item.get(self.phone_column) if isinstance(item, Mapping) else item
            return
        assert self.path is not None
        try:
            with self.path.open("rb") as raw:
                yield from getattr(self, f"_{self.file_format}_rows")(raw)
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise ContactFileError(f"contacts: cannot read {self.path}: {error}") from error

    def _csv_rows(self, raw: Any) -> Iterator[tuple[str, Any]]:
        reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        if self.phone_column not in (reader.fieldnames or ()):
            raise ContactFileError(
                f"phone_column: {self.path} has no column {self.phone_column!r}; its header is "
                f"{', '.join(reader.fieldnames or ()) or '(empty)'}"
            )
        for row in reader:
            yield f"line {reader.line_num}", row.get(self.phone_column)

    def _jsonl_rows(self, raw: Any) -> Iterator[tuple[str, Any]]:
        for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                yield f"line {number}", _NotJson()
                continue
            yield (
                f"line {number}",
                item.get(self.phone_column, _Missing()) if isinstance(item, dict) else item,
            )

    def _parquet_rows(self, raw: Any) -> Iterator[tuple[str, Any]]:
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(raw)
        if self.phone_column not in parquet.schema_arrow.names:
            raise ContactFileError(
                f"phone_column: {self.path} has no column {self.phone_column!r}; its columns are "
                f"{', '.join(parquet.schema_arrow.names)}"
            )
        number = 0
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=[self.phone_column]):
            for value in batch.column(0).to_pylist():
                number += 1
                yield f"row {number}", value

    def check(self, max_invalid_rows: int) -> SourceCheck:
        """First pass: log every bad row; more than ``max_invalid_rows`` raises before any upload."""
        result = SourceCheck()
        for where, value in self.rows():
            problem = _problem(value, self.phone_column, self.default_region)
            if problem is None:
                result.valid += 1
                continue
            result.rejected += 1
            if len(result.problems) < MAX_REPORTED_ROWS:
                result.problems.append(f"{where}: {problem}")
                log.warning("Contact rejected, %s: %s", where, problem)
        hidden = result.rejected - len(result.problems)
        if hidden:
            log.warning("%d more rejected contacts are not listed one by one.", hidden)
        if result.rejected > max_invalid_rows:
            shown = "\n".join(result.problems) + (f"\n…and {hidden} more" if hidden else "")
            raise InvalidContactsError(
                f"{result.rejected} contacts rejected, more than max_invalid_rows={max_invalid_rows}; "
                f"nothing was sent:\n{shown}"
            )
        return result

    def valid_phones(self) -> Iterator[str]:
        """Second pass: the readable numbers, in source order, as E.164."""
        for _, value in self.rows():
            if _problem(value, self.phone_column, self.default_region) is None:
                yield to_e164(value, self.default_region)


class _Missing:
    """A JSON Lines object without the phone field."""


class _NotJson:
    """A JSON Lines line that does not parse."""


def _problem(value: Any, phone_column: str, default_region: str | None) -> str | None:
    """Why ``value`` is not a usable phone number, or None when it is one."""
    if isinstance(value, _Missing):
        return f"no {phone_column!r} field"
    if isinstance(value, _NotJson):
        return "not a JSON object"
    try:
        to_e164(value, default_region)
    except PhoneNumberProblem as error:
        return str(error)
    return None


def _storage_path(contacts: Any) -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    if isinstance(contacts, ObjectStoragePath):
        return contacts
    if not isinstance(contacts, (str, os.PathLike)) or not str(contacts).strip():
        raise ContactFileError(
            f"contacts: must be a list of phone numbers, a file path or an ObjectStoragePath, "
            f"got {type(contacts).__name__}"
        )
    text = os.fspath(contacts)
    return ObjectStoragePath(text if "://" in text else f"file://{Path(text).expanduser().resolve()}")
