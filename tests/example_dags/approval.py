"""A reviewer for ``dag.test()`` runs: Human-in-the-loop requests answered as the REST API does.

``dag.test()`` never answers an approval itself; it waits until a response is written to the
metadata DB. ``answering`` writes one the way Airflow's ``PATCH …/hitlDetails`` route does: the
request's chosen option, who answered and when, then (Airflow 3.3) the parked task is resumed.
Before 3.3 the task is deferred to ``HITLTrigger``, which ``dag.test()`` runs and which reads the
response itself. ``tests/e2e/test_approval.py`` answers through the real REST API.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

log = logging.getLogger(__name__)

REVIEWER = {"id": "reviewer", "name": "A reviewer"}


def answer_pending(choice: str, shown: list[str]) -> None:
    """Answer every unanswered request with ``choice``; append the body each one showed."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        for detail in session.scalars(select(HITLDetail).where(~HITLDetail.response_received)):
            task_instance = session.get(TaskInstance, detail.ti_id)
            detail.responded_by = dict(REVIEWER)
            detail.responded_at = datetime.now(timezone.utc)
            detail.chosen_options = [choice]
            detail.params_input = {}
            shown.append(str(detail.body))
            if task_instance is not None and task_instance.state == "awaiting_input":  # Airflow 3.3
                from airflow.models.trigger import handle_event_submit
                from airflow.triggers.base import TriggerEvent

                event = TriggerEvent(detail.as_resume_event_payload())
                handle_event_submit(event, task_instance=task_instance, session=session)


@contextmanager
def answering(choice: str) -> Iterator[list[str]]:
    """While the block runs, a thread answers each approval request with ``choice``
    (``"Approve"`` or ``"Reject"``). Yields the list of the bodies the reviewer was shown."""
    shown: list[str] = []
    done = threading.Event()

    def review() -> None:
        while not done.wait(0.2):
            try:
                answer_pending(choice, shown)
            except Exception:  # a busy SQLite DB: try again; a lasting error shows in the test's log
                log.exception("Could not answer the approval request; trying again.")

    reviewer = threading.Thread(target=review, name="hitl-reviewer", daemon=True)
    reviewer.start()
    try:
        yield shown
    finally:
        done.set()
        reviewer.join(timeout=30)
