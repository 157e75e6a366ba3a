"""Fixtures of the reliability suite.

Its tests add tables of figures (:func:`add_figures`, from :mod:`tests.figures`) that the run
prints after the results, so ``make reliability`` and ``make test`` both show them (even with ``-q``).
"""

from __future__ import annotations

from tests.figures import add_figures, set_figures

__all__ = ["add_figures", "set_figures"]
