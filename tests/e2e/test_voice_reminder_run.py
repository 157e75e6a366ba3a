"""The voice reminder example through ``run_dag``: a real ``airflow dags test`` in a throwaway
Airflow home against a fresh sandbox, as a newcomer would run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.example_dags.conftest import EXAMPLES

pytestmark = pytest.mark.e2e


def test_run_dag_runs_the_voice_reminder_and_leaves_nothing_behind(tmp_path: Path) -> None:
    results = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "airflow_campaign_provider.sandbox.run_dag",
        "kore_voice_reminder",
        "--dags-folder",
        str(EXAMPLES),
        "--seed",
        str(EXAMPLES / "data" / "sandbox_seed.json"),
        "--preparing-seconds",
        "0.2",
        "--send-interval",
        "0.2",
    ]
    env = {**os.environ, "TMPDIR": str(tmp_path), "KORE_EXAMPLE_RESULTS_URL": f"file://{results}"}

    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)

    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"start_and_wait\s+success \(deferred to the trigger, then resumed\)", run.stdout)
    assert "Left in Kore.ai    nothing (every campaign deleted)" in run.stdout
    (csv_file,) = results.glob("*.csv")
    assert csv_file.read_text().startswith("phoneNumber,uniqueId,dialerOutcome,numberOfAttemptsSoFar")
