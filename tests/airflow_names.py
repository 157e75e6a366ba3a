"""Airflow names the tests use whose home moved between the supported Airflow lines."""

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.1
    from airflow.models.dagbag import DagBag

__all__ = ["DagBag"]
