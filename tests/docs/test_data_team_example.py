"""The done-when test of a newcomer's first hour: the data-team DAG exactly as the docs show it
(CSV -> contact list -> SMS campaign -> wait -> results -> clean up) runs against a fresh sandbox
on the first try. The docs page includes the DAG file with a snippet line, so the two are one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "docs" / "examples"
GUIDE = ROOT / "docs" / "data-team.md"


def test_the_guide_shows_the_file_the_test_runs() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    assert '--8<-- "docs/examples/kore_data_team.py"' in guide
    assert "--dags-folder docs/examples" in guide


def test_the_data_team_dag_from_the_docs_runs_on_the_first_try(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "airflow_campaign_provider.sandbox.run_dag",
        "kore_data_team",
        "--dags-folder",
        str(EXAMPLES),
    ]
    env = {**os.environ, "TMPDIR": str(tmp_path), "KORE_EXAMPLE_RESULTS_URL": f"file://{tmp_path}/results"}
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)

    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    for task in ("create_list", "upload_contacts", "create_campaign", "start_campaign"):
        assert re.search(rf"^  {task}\s+success$", out, re.M), out
    assert re.search(r"^  wait_for_completion\s+success", out, re.M), out
    for task in ("export_results", "delete_campaign", "delete_list"):
        assert re.search(rf"^  {task}\s+success$", out, re.M), out
    # 6 customers in the CSV, one of them on the "Do not text" list
    assert "SMS sent       5, exactly one to each of the 5 contacts due" in out, out
    assert "Left in Kore.ai    nothing" in out, out
    (results,) = (tmp_path / "results").glob("*.csv")
    assert "totalMessagesSent" in results.read_text(encoding="utf-8")
