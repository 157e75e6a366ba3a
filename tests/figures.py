"""Tables of figures that tests measure and the run prints at its end (``make test``, ``make reliability``).

Tests add tables with :func:`add_figures`, or set a whole table with :func:`set_figures`; the root
``conftest.py`` prints them after the results. Under pytest-xdist each worker hands its tables to
the controller when it finishes, and the controller prints them all.
"""

from __future__ import annotations

#: ``(title, rows)`` tables, in the order the tests added them.
FIGURES: list[tuple[str, list[tuple[str, str]]]] = []


def add_figures(title: str, rows: list[tuple[str, str]]) -> None:
    """Print these ``(what, figure)`` rows in the run's summary, in the table of that title."""
    for existing, table in FIGURES:
        if existing == title:
            table.extend(rows)
            return
    FIGURES.append((title, list(rows)))


def set_figures(title: str, rows: list[tuple[str, str]]) -> None:
    """Make ``rows`` the whole table of that title (for a table recomputed as the run goes)."""
    for existing, table in FIGURES:
        if existing == title:
            table[:] = rows
            return
    FIGURES.append((title, list(rows)))


def format_table(title: str, rows: list[tuple[str, str]]) -> str:
    """A Markdown table, ready to paste into docs/reliability.md."""
    width = max([len(what) for what, _ in rows] + [4])
    lines = [f"### {title}", "", f"| {'what':<{width}} | figure |", f"| {'-' * width} | ------ |"]
    lines += [f"| {what:<{width}} | {figure} |" for what, figure in rows]
    return "\n".join(lines)
