"""Test settings shared by the whole suite.

Airflow reads AIRFLOW_HOME when first imported, so a throwaway home is set before anything
imports it: the suite never touches a developer's real ~/airflow.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="campaign-provider-airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


@pytest.fixture(scope="session")
def metadata_db() -> None:
    """Airflow's metadata DB in the suite's throwaway AIRFLOW_HOME, made once per session.

    ``initdb`` is what ``airflow db migrate`` runs on an empty database, minus a second interpreter.
    """
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture
def dags_folder(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Point Airflow's dags-folder bundle at a folder for this test: ``dag.test()`` only finds
    DAGs there, and Airflow read the folder's path when it was first imported."""

    def use(folder: Path) -> None:
        from airflow import settings

        monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(folder))
        monkeypatch.setattr(settings, "DAGS_FOLDER", str(folder))

    return use
