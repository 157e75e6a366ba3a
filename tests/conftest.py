"""Test settings shared by the whole suite.

Airflow reads AIRFLOW_HOME when first imported, so a throwaway home is set before anything
imports it: the suite never touches a developer's real ~/airflow.
"""

from __future__ import annotations

import os
import tempfile

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="campaign-provider-airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
