"""Per-contact campaign results written as CSV or JSON Lines, streamed, with a summary.

Rows are written as they arrive (one page of at most 100 at a time), so an export of a million
contacts needs no more memory than one page. The summary (row count, counts by
``dialerOutcome``, attempts) is small enough for XCom. No Airflow import: the writer takes any
text file object, e.g. ``ObjectStoragePath.open("w")``.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

FORMATS = ("csv", "jsonl")
#: The fields of a ``view=contacts`` row, in Kore's order: the CSV columns.
CONTACT_COLUMNS = (
    "phoneNumber",
    "uniqueId",
    "dialerOutcome",
    "numberOfAttemptsSoFar",
    "botSessionId",
    "agentDispositionCodes",
    "botOutboundStatus",
    "botOutboundStatusDetail",
)
#: How a row whose ``dialerOutcome`` is blank (the call is still in progress) is counted.
IN_PROGRESS = "in progress"


@dataclass
class ResultsSummary:
    """What an export wrote: rows, counts by ``dialerOutcome`` and attempts."""

    rows: int = 0
    attempts: int = 0
    max_attempts: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)

    def count(self, row: dict[str, Any]) -> None:
        attempts = row.get("numberOfAttemptsSoFar")
        attempts = attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else 0
        self.rows += 1
        self.attempts += attempts
        self.max_attempts = max(self.max_attempts, attempts)
        self.by_outcome[str(row.get("dialerOutcome") or IN_PROGRESS)] += 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, for XCom."""
        return {
            "rows": self.rows,
            "by_dialer_outcome": dict(sorted(self.by_outcome.items())),
            "total_attempts": self.attempts,
            "max_attempts": self.max_attempts,
        }


#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs: lists as JSON; text starting like a formula gets a
    leading ``'``, as OWASP advises for CSV files people open in spreadsheets."""
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_rows(rows: Iterable[dict[str, Any]], out: IO[str], file_format: str) -> ResultsSummary:
    """Write ``rows`` to ``out`` as CSV (Kore's columns; lists as JSON) or JSON Lines (every field)."""
    summary = ResultsSummary()
    if file_format == "csv":
        writer = csv.DictWriter(out, fieldnames=CONTACT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _csv_cell(row.get(key)) for key in CONTACT_COLUMNS})
            summary.count(row)
    else:
        for row in rows:
            out.write(json.dumps(row, separators=(",", ":")) + "\n")
            summary.count(row)
    return summary


def write_totals(totals: dict[str, Any], out: IO[str], file_format: str) -> None:
    """Write one campaign-level record (an SMS campaign's ``totalMessagesSent``)."""
    if file_format == "csv":
        writer = csv.DictWriter(out, fieldnames=list(totals))
        writer.writeheader()
        writer.writerow({key: _csv_cell(value) for key, value in totals.items()})
    else:
        out.write(json.dumps(totals, separators=(",", ":")) + "\n")
