"""The README a newcomer reads first: its first screen holds the two commands and a DAG, it says
how to install before a release exists, and every class it names imports from the path it gives."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
REFERENCE = (ROOT / "docs" / "reference" / "index.md").read_text(encoding="utf-8")
#: A table row naming classes in its first cell and their module in its second.
ROW = re.compile(
    r"^\|\s*(?P<names>[^|]*`[A-Z]\w+`[^|]*)\|\s*`(?P<module>airflow_campaign_provider[\w.]*)`", re.M
)
CODE = re.compile(r"```python\n(.*?)```", re.S)
CLASS_NAME = re.compile(r"\b[A-Z]\w*(?:Operator|Sensor|Trigger|Hook)\b")


def table_imports(text: str) -> list[tuple[str, str]]:
    """``(module, class)`` for every class a table row names with its import path."""
    return [
        (row["module"], name)
        for row in ROW.finditer(text)
        for name in re.findall(r"`([A-Z]\w+)`", row["names"])
    ]


def code_imports(text: str) -> list[tuple[str, str]]:
    """``(module, name)`` for every ``from airflow_campaign_provider… import …`` in a code block."""
    found = []
    for block in CODE.findall(text):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "airflow_campaign_provider"
            ):
                found += [(node.module or "", alias.name) for alias in node.names]
    return found


def test_the_first_screen_holds_the_two_commands_a_dag_and_how_to_install() -> None:
    first_screen = "\n".join(README.splitlines()[:40])
    assert "make demo" in first_screen
    assert "make test" in first_screen
    assert "CreateSmsCampaignOperator(" in first_screen
    assert "`pip install .`" in first_screen
    assert "pip install airflow-campaign-provider" not in README, "not on PyPI yet"


def test_nothing_stale_is_left() -> None:
    assert "cannot upload contacts" not in README
    assert len(README.splitlines()) < 150, "the long material belongs in docs/"


@pytest.mark.parametrize("text", [README, REFERENCE], ids=["README", "docs/reference/index.md"])
def test_every_class_named_imports_from_the_path_given(text: str) -> None:
    named = table_imports(text) + code_imports(text)
    assert len(named) >= 16
    missing = [
        f"{module}.{name}" for module, name in named if not hasattr(importlib.import_module(module), name)
    ]
    assert not missing


def test_every_operator_sensor_trigger_and_hook_named_has_its_path() -> None:
    """A class mentioned anywhere in the README appears in a row or an import with its module."""
    with_path = {name for _, name in table_imports(README) + code_imports(README)}
    assert set(CLASS_NAME.findall(README)) <= with_path


def test_the_published_readme_links_only_absolutely() -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    assert links
    assert all(re.match(r"^(https?:|#)", target) for target in links), links
