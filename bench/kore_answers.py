"""Issue 19's reproductions, old client and new side by side, against answers shaped as Kore's samples.

    .venv/bin/python bench/kore_answers.py [--before PATH] [--json]

``--before`` is another checkout of the provider (e.g. ``git worktree add /tmp/before main``):
each scenario then runs twice, in a child process importing that checkout's client, and in one
importing this checkout's; without it only this checkout runs. The servers are this checkout's:

* a sandbox answering as Kore's samples do (a list's numbers without ``+``; told to, a 500 to an
  ``addContacts`` it took, with the import landing later);
* a server answering the same page for ever (``getAllContacts`` with ``hasMore: true``; results
  with ``totalPages`` 10⁹), which gives up after 200 pages so that an endless client still ends.

Scenarios (issue 19 items 1 to 4): a second upload of 20 numbers; a failed upload after Kore took
the batch, then its task retry; a file of 20 numbers written as people write them; an endless
contact listing and an endless results export. Printed: numbers added twice, pages read, rows
written, seconds.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MARK = "KORE-ANSWERS-RESULT "
PHONES = [f"+1415555{n:04d}" for n in range(5000, 5020)]
MIXED = [
    *(f"+1 415 555 {n:04d}" for n in range(5100, 5105)),
    *(f"+1-415-555-{n:04d}" for n in range(5105, 5110)),
    *(f"+1 (415) 555-{n:04d}" for n in range(5110, 5115)),
    *(f"(415) 555-{n:04d}" for n in range(5115, 5120)),
]
GIVE_UP_AFTER = 200


# --- the children: one scenario each, through the public hook and operators --------------------


def _accepts(call: Any, name: str) -> bool:
    return name in inspect.signature(call).parameters


def _upload_options(operator: type, **options: Any) -> dict[str, Any]:
    return {k: v for k, v in options.items() if _accepts(operator.__init__, k)}


def child_second_upload() -> dict[str, Any]:
    from airflow_campaign_provider.hooks.campaign import CampaignHook

    hook = CampaignHook()
    contact_list, _ = hook.create_contact_list_once("Second upload", "bench", allow_duplicates=True)
    hook.upload_contacts_once(contact_list["_id"], PHONES, poll_interval=0.05, count_timeout=10)
    began = time.monotonic()
    again = hook.upload_contacts_once(contact_list["_id"], PHONES, poll_interval=0.05, count_timeout=10)
    return {"sent_again": again.sent, "seconds": time.monotonic() - began, "list": contact_list["_id"]}


def child_retried_upload() -> dict[str, Any]:
    from airflow_campaign_provider.hooks.campaign import CampaignHook
    from airflow_campaign_provider.operators.contact_list import UploadContactsOperator

    hook = CampaignHook()
    contact_list, _ = hook.create_contact_list_once("Retried upload", "bench", allow_duplicates=True)
    options = _upload_options(
        UploadContactsOperator, import_timeout=0.5, poll_interval=0.05, settle_seconds=2.0
    )
    upload = UploadContactsOperator(
        task_id="upload", contact_list_id=contact_list["_id"], contacts=PHONES, **options
    )
    began = time.monotonic()
    tries = []
    for try_number in (1, 2):
        try:
            upload.execute({"ti": SimpleNamespace(try_number=try_number)})
            tries.append("success")
            break
        except Exception as error:
            tries.append(type(error).__name__)
    return {"tries": tries, "seconds": time.monotonic() - began, "list": contact_list["_id"]}


def child_people_written() -> dict[str, Any]:
    from airflow_campaign_provider.hooks.campaign import CampaignHook
    from airflow_campaign_provider.operators.contact_list import UploadContactsOperator

    path = Path(tempfile.mkdtemp()) / "people.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["phone"])
        writer.writerows([phone] for phone in MIXED)
    contact_list, _ = CampaignHook().create_contact_list_once("People written", "bench")
    options = _upload_options(UploadContactsOperator, default_region="US", poll_interval=0.05)
    began = time.monotonic()
    report = UploadContactsOperator(
        task_id="upload",
        contact_list_id=contact_list["_id"],
        contacts=str(path),
        max_invalid_rows=100,
        **options,
    ).execute({"ti": SimpleNamespace(try_number=1)})
    return {"sent": report["sent"], "rejected": report["rejected"], "seconds": time.monotonic() - began}


def child_endless_contacts() -> dict[str, Any]:
    from airflow_campaign_provider.hooks.campaign import CampaignHook

    began = time.monotonic()
    contacts = list(CampaignHook().iter_contacts("cl-endless"))
    return {
        "rows": len(contacts),
        "distinct": len({c["_id"] for c in contacts}),
        "seconds": time.monotonic() - began,
    }


def child_endless_results() -> dict[str, Any]:
    from airflow_campaign_provider.operators.results import ExportCampaignResultsOperator

    target = Path(tempfile.mkdtemp()) / "results.csv"
    began = time.monotonic()
    try:
        ExportCampaignResultsOperator(
            task_id="export", campaign_id="cd-endless", campaign_type="voice", path=str(target)
        ).execute({})
        outcome = "ended"
    except Exception as error:
        outcome = type(error).__name__
    with target.open(newline="") as handle:
        rows = [row["phoneNumber"] for row in csv.DictReader(handle)]
    return {
        "rows": len(rows),
        "duplicates": len(rows) - len(set(rows)),
        "outcome": outcome,
        "seconds": time.monotonic() - began,
    }


CHILDREN = {
    "second_upload": child_second_upload,
    "retried_upload": child_retried_upload,
    "people_written": child_people_written,
    "endless_contacts": child_endless_contacts,
    "endless_results": child_endless_results,
}


# --- the server that pages for ever ---------------------------------------------------------------


class EndlessPages(BaseHTTPRequestHandler):
    """The same page for every request, until ``GIVE_UP_AFTER`` pages: then an empty last one."""

    served: Counter[str] = Counter()

    def _answer(self, kind: str, page: dict[str, Any]) -> None:
        EndlessPages.served[kind] += 1
        if EndlessPages.served[kind] > GIVE_UP_AFTER:
            page = {**page, "results": [], "hasMore": False, "totalPages": 1}
        body = json.dumps({"status": "success", "data": page}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        rows = [{"_id": f"cc-{n}", "phoneNumber": f"9122333{n:05d}"} for n in range(50)]
        self._answer("contacts", {"results": rows, "skip": 0, "limit": 50, "hasMore": True})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        rows = [{"phoneNumber": f"9198765{n:05d}", "dialerOutcome": "completed"} for n in range(97)]
        self._answer("results", {"results": rows, "page": 1, "limit": 100, "totalPages": 10**9})

    def log_message(self, *args: Any) -> None:
        pass


# --- the parent --------------------------------------------------------------------------------------


def run_child(tree: Path, scenario: str, connection: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT": connection,
        "AIRFLOW_HOME": tempfile.mkdtemp(prefix="bench-airflow-home-"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    }
    command = [sys.executable, str(Path(__file__).resolve()), "--child", scenario]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][:120]}
    return dict(json.loads(lines[-1][len(MARK) :]))


def added_twice(sandbox: Any) -> tuple[int, int]:
    """Numbers sent in two addContacts calls or more, and numbers the lists hold twice."""
    from airflow_campaign_provider.phones import phone_key

    sent: Counter[str] = Counter()
    for request in sandbox.admin.requests():
        if request["path"].endswith("/addContacts") and isinstance(request.get("body"), dict):
            sent.update(phone_key(c["phoneNumber"]) for c in request["body"]["data"])
    held = Counter(p for phones in sandbox.admin.resources()["contact_lists"].values() for p in phones)
    return sum(1 for n in sent.values() if n > 1), sum(1 for n in held.values() if n > 1)


def measure(tree: Path) -> dict[str, Any]:
    from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer

    results: dict[str, Any] = {}
    config = SandboxConfig(rate_limit_per_window=None, preparing_seconds=0.05, contact_import_seconds=0.2)
    with SandboxServer(config) as sandbox:
        connection = sandbox.connection_json()
        for scenario, changes in (
            ("second_upload", {}),
            ("retried_upload", {"add_contacts_fail_after_accept": 1, "contact_import_seconds": 1.0}),
            ("people_written", {}),
        ):
            sandbox.admin.reset()
            if changes:
                sandbox.admin.update_config(**changes)
            outcome = run_child(tree, scenario, connection)
            time.sleep(1.5)  # an import still in flight lands before the lists are read
            outcome["requests_sent_twice"], outcome["held_twice"] = added_twice(sandbox)
            results[scenario] = outcome
    server = ThreadingHTTPServer(("127.0.0.1", 0), EndlessPages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endless = json.dumps(
        {
            "conn_type": "kore_campaign",
            "host": f"http://127.0.0.1:{server.server_address[1]}",
            "login": "cs-bench",
            "password": "bench-secret",
            "extra": {"account_id": "0123456789abcdef01234567", "stream_id": "st-bench"},
        }
    )
    for scenario in ("endless_contacts", "endless_results"):
        EndlessPages.served.clear()
        outcome = run_child(tree, scenario, endless)
        outcome["pages_read"] = sum(EndlessPages.served.values())
        results[scenario] = outcome
    server.shutdown()
    return results


def table(columns: dict[str, dict[str, Any]]) -> str:
    rows = [
        ("1. second upload of 20: numbers sent again", lambda r: r["second_upload"].get("sent_again")),
        ("1. numbers the list holds twice", lambda r: r["second_upload"].get("held_twice")),
        (
            "2. 500 after Kore took 20, then retry: tries",
            lambda r: "/".join(r["retried_upload"].get("tries", [])),
        ),
        ("2. numbers sent in two calls", lambda r: r["retried_upload"].get("requests_sent_twice")),
        ("2. numbers the list holds twice", lambda r: r["retried_upload"].get("held_twice")),
        ("2. seconds, both tries", lambda r: f"{r['retried_upload'].get('seconds', 0):.1f}"),
        ("3. 20 numbers as people write them: sent", lambda r: r["people_written"].get("sent")),
        ("3. rejected", lambda r: r["people_written"].get("rejected")),
        ("4. contacts, hasMore for ever: pages read", lambda r: r["endless_contacts"].get("pages_read")),
        ("4. contacts returned (distinct: 50)", lambda r: r["endless_contacts"].get("rows")),
        ("4. seconds", lambda r: f"{r['endless_contacts'].get('seconds', 0):.1f}"),
        ("4. results, totalPages 1e9: pages read", lambda r: r["endless_results"].get("pages_read")),
        ("4. rows written (distinct: 97)", lambda r: r["endless_results"].get("rows")),
        ("4. duplicate rows written", lambda r: r["endless_results"].get("duplicates")),
        ("4. seconds", lambda r: f"{r['endless_results'].get('seconds', 0):.1f}"),
    ]
    names = list(columns)
    lines = [f"{'':48}" + "".join(f"{name:>28}" for name in names)]
    for label, value in rows:
        cells = []
        for name in names:
            try:
                cells.append(str(value(columns[name])))
            except (KeyError, TypeError):
                cells.append("error")
        lines.append(f"{label:48}" + "".join(f"{cell:>28}" for cell in cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", type=Path, help="another checkout, measured first")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(MARK + json.dumps(CHILDREN[args.child]()), flush=True)
        return
    columns = {}
    if args.before:
        columns["before"] = measure(args.before.resolve())
    columns["this checkout"] = measure(REPO)
    print(table(columns))
    if args.json:
        print(json.dumps(columns, indent=2, default=str))


if __name__ == "__main__":
    main()
