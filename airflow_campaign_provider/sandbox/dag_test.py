"""``airflow dags test`` in this process, then what the run produced, as JSON, for ``run_dag``.

``python -m airflow_campaign_provider.sandbox.dag_test DAG_ID RESULT_JSON [--conf JSON]`` runs
Airflow's own ``dags test`` command (in the Airflow configured by the environment), then writes
the DAG run's state and its task instances, read from the ``DagRun`` Airflow recorded, to
``RESULT_JSON``. A listener counts how often each task instance starts running: ``dags test``
runs a trigger in line and resumes the task in the same try, so a second start means it deferred.
Each state change is also written to the output as one event line (:mod:`.progress`), which
``run_dag`` shows as the run goes. Exits with Airflow's status.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.__main__ import main as airflow_main  # first: it loads Airflow's configuration
from airflow.listeners import hookimpl
from airflow.models.dagrun import DagRun
from airflow.sdk.listener import get_listener_manager

from airflow_campaign_provider.sandbox.progress import event_line

if TYPE_CHECKING:
    from collections.abc import Sequence


def _announce(task_instance: Any, state: str, error: object = None) -> None:
    """Write the event line straight to the output file, past any redirection of ``sys.stdout``."""
    text = str(error) if error is not None else None
    line = event_line(str(task_instance.task_id), int(task_instance.map_index), state, text)
    os.write(1, (line + "\n").encode("utf-8", "replace"))


class StartCounter:
    """An Airflow listener: how many times each ``(task_id, map_index, try_number)`` started;
    with ``announce``, it writes each state change as an event line too."""

    def __init__(self, announce: bool = False) -> None:
        self.starts: Counter[tuple[str, int, int]] = Counter()
        self.announce = announce

    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        """Count one start of the task instance."""
        self.starts[(task_instance.task_id, task_instance.map_index, task_instance.try_number)] += 1
        if self.announce:
            _announce(task_instance, "running")

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        """Announce a success."""
        if self.announce:
            _announce(task_instance, "success")

    @hookimpl
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: object) -> None:
        """Announce a failure with its error."""
        if self.announce:
            _announce(task_instance, "failed", error)

    @hookimpl
    def on_task_instance_skipped(self, previous_state: Any, task_instance: Any) -> None:
        """Announce a task that skipped itself."""
        if self.announce:
            _announce(task_instance, "skipped")

    def resumed_tasks(self) -> list[str]:
        """The tasks that ran more than once within one try: they deferred, then resumed."""
        return sorted({task_id for (task_id, _, _), count in self.starts.items() if count > 1})


def run_result(dag_id: str, deferred: Sequence[str]) -> dict[str, Any]:
    """The state of the DAG's last run and its task instances, from Airflow's ``DagRun``."""
    runs = DagRun.find(dag_id=dag_id)
    if not runs:
        return {"state": "not run", "tasks": [], "deferred": list(deferred)}
    run = max(runs, key=lambda dag_run: dag_run.id)
    tasks = [
        [
            ti.task_id,
            ti.map_index,
            ti.state or "no status",
            ti.start_date.isoformat() if ti.start_date else None,
        ]
        for ti in run.get_task_instances()
    ]
    return {"state": str(run.state), "tasks": tasks, "deferred": list(deferred)}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``airflow dags test DAG_ID``, write its result; Airflow's exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    dag_id, result_file, rest = args[0], Path(args[1]), args[2:]
    counter = StartCounter(announce=True)
    get_listener_manager().add_listener(counter)
    sys.argv = ["airflow", "dags", "test", dag_id, *rest]
    code = 0
    try:
        airflow_main()
    except SystemExit as exit_:
        code = 0 if exit_.code in (None, 0) else 1
    finally:
        result_file.write_text(json.dumps(run_result(dag_id, counter.resumed_tasks())), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main())
