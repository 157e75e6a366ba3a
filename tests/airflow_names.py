"""Airflow names the tests use whose home moved between the supported Airflow lines."""

from __future__ import annotations

from typing import Any

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.1
    from airflow.models.dagbag import DagBag

__all__ = ["DagBag", "serialized_dag"]


def serialized_dag(dag: Any) -> Any:
    """``dag`` as the DAG processor reads it after serialization (a ``LazyDeserializedDAG``)."""
    from airflow.serialization.serialized_objects import LazyDeserializedDAG

    if hasattr(LazyDeserializedDAG, "from_dag"):
        return LazyDeserializedDAG.from_dag(dag)
    from airflow.serialization.serialized_objects import SerializedDAG  # Airflow 3.1 and 3.2

    return LazyDeserializedDAG(data=SerializedDAG.to_dict(dag))
