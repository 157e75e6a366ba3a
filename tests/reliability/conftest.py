"""Fixtures of the reliability suite, and the figures it prints at the end of the run.

Tests add tables to :data:`FIGURES`; ``pytest_terminal_summary`` prints them after the results,
so ``make reliability`` and ``make test`` both show them (even with ``-q``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_campaign_provider.api import TokenMinter

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

#: ``(title, rows)`` tables, in the order the tests added them.
FIGURES: list[tuple[str, list[tuple[str, str]]]] = []


def add_figures(title: str, rows: list[tuple[str, str]]) -> None:
    """Print these ``(what, figure)`` rows in the run's summary, in the table of that title."""
    for existing, table in FIGURES:
        if existing == title:
            table.extend(rows)
            return
    FIGURES.append((title, list(rows)))


def format_table(title: str, rows: list[tuple[str, str]]) -> str:
    """A Markdown table, ready to paste into docs/reliability.md."""
    width = max([len(what) for what, _ in rows] + [4])
    lines = [f"### {title}", "", f"| {'what':<{width}} | figure |", f"| {'-' * width} | ------ |"]
    lines += [f"| {what:<{width}} | {figure} |" for what, figure in rows]
    return "\n".join(lines)


@pytest.fixture
def minted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every JWT the provider mints during the test, in order (the real minter runs, wrapped)."""
    tokens: list[str] = []
    mint = TokenMinter._mint

    def recording_mint(self: TokenMinter, now: float, *, with_jti: bool) -> str:
        token = mint(self, now, with_jti=with_jti)
        tokens.append(token)
        return token

    monkeypatch.setattr(TokenMinter, "_mint", recording_mint)
    return tokens


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for title, rows in FIGURES:
        terminalreporter.write_line(format_table(title, rows))
        terminalreporter.write_line("")
