"""No client secret and no JWT anywhere: logs, exceptions' text, XCom values, the metadata DB.

Every example DAG runs with ``dag.test()`` against the sandbox, as a user would run it, and then
runs fail on purpose: the account's secret rotated, Kore answering 503 to everything, the
campaign stopped in Kore while it sends. Every JWT the provider mints is recorded (the real
minter runs, wrapped), and the client secret, every token and every token's signature are then
looked for in everything captured:

* every log line: the process's stdout and stderr at file-descriptor level (where ``dag.test()``
  writes task logs) and every stdlib log record at DEBUG (HTTP libraries included);
* the text and full traceback, causes included, of every error the provider raised;
* every XCom value of the runs, read back from the metadata DB, and the DB's files byte by byte.

Airflow's own redaction is switched off for the test: its generic JWT pattern (``eyJ…``) and its
secrets masker would otherwise hide a token the provider wrote, so this proves the provider never
writes one, the stronger claim (a real worker's supervisor would mask it as well). A canary, a
fake secret and a fake JWT logged from inside a task, shows that a leak would be seen.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_campaign_provider import clock
from airflow_campaign_provider.exceptions import CampaignError
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.campaign import CreateSmsCampaignOperator
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.triggers.campaign import CampaignStatusTrigger
from tests.example_dags.approval import answering
from tests.example_dags.conftest import (
    EXAMPLES,
    example_dag,
    examples_sandbox,
    task_states,
    when_active,
    xcom_result,
)

from .conftest import add_figures
from .harness import fire

__all__ = ["example_dag", "examples_sandbox"]  # fixtures, used by name

ROTATED_SECRET = "rotated-secret-for-the-leak-test-0123456789"
CANARY_SECRET = "canary-not-a-secret-7f3a9c"
CANARY_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOnRydWV9.Y2FuYXJ5LXNpZ25hdHVyZS1ub3QtcmVhbA"


@pytest.fixture
def canary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every create task logs a fake secret and a fake JWT, as a careless line would."""
    execute = CreateSmsCampaignOperator.execute

    def careless_execute(self: CreateSmsCampaignOperator, context: Any) -> Any:
        self.log.info("canary: secret=%s token=%s", CANARY_SECRET, CANARY_JWT)
        return execute(self, context)

    monkeypatch.setattr(CreateSmsCampaignOperator, "execute", careless_execute)


def example_dag_ids() -> set[str]:
    from tests.airflow_names import DagBag

    return set(DagBag(dag_folder=EXAMPLES).dag_ids)


def without_retries(dag: Any) -> Any:
    """The DAG with ``retries=0`` on every task: a forced failure ends the run at once."""
    for task in dag.tasks:
        task.retries = 0
    return dag


def failure_text(error: BaseException) -> str:
    """What a user can see of an error: its text, its repr and its whole traceback, causes included."""
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def caught(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except Exception as error:
        return error
    raise AssertionError("the call was expected to fail")


def metadata_db_bytes() -> dict[str, bytes]:
    """The metadata DB's files (SQLite and its write-ahead log), byte for byte."""
    from airflow import settings

    path = Path(str(settings.SQL_ALCHEMY_CONN).removeprefix("sqlite:///"))
    return {str(file): file.read_bytes() for file in path.parent.glob(f"{path.name}*") if file.is_file()}


def xcom_values(run_ids: list[str]) -> list[Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(XComModel).where(XComModel.run_id.in_(run_ids))).all()
        return [(row.dag_id, row.task_id, row.key, XComModel.deserialize_value(row)) for row in rows]


@pytest.fixture
def every_log_line(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def test_no_secret_or_token_in_any_log_exception_or_xcom_of_every_example_dag(
    example_dag: Callable[[str], Any],
    examples_sandbox: SandboxServer,
    minted: list[str],
    unredacted_logs: None,
    canary: None,
    every_log_line: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    admin = examples_sandbox.admin
    secret = examples_sandbox.client_secret
    runs: dict[str, Any] = {}

    # Every example DAG, as in production.
    runs["weekly lifecycle"] = example_dag("kore_campaign_weekly_lifecycle").test()
    runs["segments"] = example_dag("kore_campaign_segments").test()
    finished = xcom_result(runs["segments"], "publish_finished")
    runs["teardown"] = example_dag("kore_campaign_teardown").test(run_conf={"campaign_ids": finished})
    monkeypatch.setenv("KORE_EXAMPLE_RESULTS_URL", f"file://{tmp_path}")
    runs["voice reminder"] = example_dag("kore_voice_reminder").test()
    runs["results export"] = example_dag("kore_campaign_results_export").test()
    with answering("Reject") as reviewed:  # rejected: its campaign is deleted, nobody texted
        runs["approval"] = example_dag("kore_campaign_approval").test()
    assert len(reviewed) == 1
    examples = example_dag_ids()
    assert {run.dag_id for run in runs.values()} == examples, "an example DAG is not run here"
    assert {name: run.state for name, run in runs.items()} == dict.fromkeys(runs, "success")
    assert admin.campaigns()["liveCount"] == 0

    # Failures on purpose: a rotated secret, Kore down, the campaign stopped in Kore mid-send.
    succeeded = len(runs)
    monkeypatch.setattr(clock, "backoff", lambda seconds: None)
    admin.update_config(client_secret=ROTATED_SECRET)
    runs["secret rotated"] = without_retries(example_dag("kore_campaign_weekly_lifecycle")).test()
    admin.update_config(client_secret=secret)
    admin.set_faults(error_rate=1.0)
    runs["Kore down (503)"] = without_retries(example_dag("kore_campaign_segments")).test()
    admin.clear_faults()
    admin.update_config(send_interval_seconds=1.0)
    with when_active(
        examples_sandbox, lambda watcher, campaign_id: watcher.force_status(campaign_id, "Stopped")
    ):
        runs["stopped in Kore"] = without_retries(example_dag("kore_campaign_weekly_lifecycle")).test()
    failed = {name: run.state for name, run in list(runs.items())[succeeded:]}
    assert failed == dict.fromkeys(failed, "failed")
    assert task_states(runs["stopped in Kore"])["delete_campaign"] == ["success"]

    # The provider's errors as a user meets them, with their causes (requests' and httpx' too).
    admin.update_config(client_secret=ROTATED_SECRET)
    campaign_id = admin.seed_campaign("Active", complete_in_seconds=60)
    errors = [
        caught(lambda: CampaignHook().get_campaign_status(campaign_id)),
        caught(lambda: CampaignHook().start_campaign(campaign_id)),
    ]
    event = _run(
        CampaignStatusTrigger(campaign_id=campaign_id, target_statuses=["Completed"], poll_interval=0.1)
    )
    admin.update_config(client_secret=secret)
    admin.set_faults(drop_rate=1.0)
    errors.append(caught(lambda: CampaignHook().create_sms_campaign({"name": "x"})))
    admin.clear_faults()
    errors.append(caught(lambda: CampaignHook().delete_campaign("cd-missing")))
    monkeypatch.setenv(
        "AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT",
        examples_sandbox.connection_json().replace(examples_sandbox.url, "http://127.0.0.1:9"),
    )
    errors.append(caught(lambda: CampaignHook().get_campaign_status(campaign_id)))
    assert all(isinstance(error, CampaignError) for error in errors), errors
    exception_texts = [failure_text(error) for error in errors] + [event["message"]]

    out, err = capfd.readouterr()
    records = every_log_line.records
    log_text = "\n".join([out, err, every_log_line.text, *(_record_text(record) for record in records)])
    xcoms = xcom_values([run.run_id for run in runs.values()])
    db_files = metadata_db_bytes()

    # What was captured is what it should be: the provider's task logs, the failures, the canary.
    assert "Created campaign" in out
    assert "Deleted sms campaign" in out
    assert "HTTP 401" in out
    assert "HTTP 503" in out
    assert "reached failure status 'Stopped'" in out
    assert CANARY_SECRET in out
    assert CANARY_JWT in out
    assert any(campaign in str(xcoms) for campaign in finished)
    assert len(minted) >= len(runs)

    leaks = []
    for what in [secret, ROTATED_SECRET, *minted, *(token.rsplit(".", 1)[1] for token in minted)]:
        leaks += [f"log: {what[:12]}…" for _ in range(log_text.count(what))]
        leaks += [f"exception: {what[:12]}…" for text in exception_texts if what in text]
        leaks += [f"xcom: {what[:12]}…" for value in xcoms if what in repr(value)]
        leaks += [
            f"metadata DB {name}: {what[:12]}…" for name, data in db_files.items() if what.encode() in data
        ]
    assert leaks == []

    lines = len(out.splitlines()) + len(err.splitlines()) + len(records)
    add_figures(
        "Secrets: nothing written anywhere",
        [
            (
                f"dag.test() runs of the {len(examples)} example DAGs / of them failed on purpose",
                f"{len(runs)} / {len(failed)}",
            ),
            ("JWTs minted (every one looked for, and its signature)", str(len(minted))),
            ("log lines captured (stdout, stderr, stdlib records at DEBUG)", str(lines)),
            ("provider errors' texts and tracebacks, causes included", str(len(exception_texts))),
            ("XCom values read back from the metadata DB", str(len(xcoms))),
            ("metadata DB bytes scanned", f"{sum(len(data) for data in db_files.values()):,}"),
            ("client secret or JWT found", "0 (the canary, logged on purpose, was found)"),
        ],
    )


def _run(trigger: CampaignStatusTrigger) -> dict[str, Any]:
    import asyncio

    return asyncio.run(fire(trigger))


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage()]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(record.exc_info[1])))
    return "\n".join(parts)
