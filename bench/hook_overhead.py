"""What CampaignHook costs over a bare ``requests.Session``, and what importing it costs.

1. The same GET (``get_campaign``) 2,000 times through the hook and through a bare session
   holding a ready token, alternating call by call, against a minimal keep-alive HTTP server in
   a child process. Prints each side's median per-call time and the median of the pairwise
   ratios (target <= 1.10). A third side, the bare session with the hook's deadline watchdog
   (its adapter, and each GET registered with a deadline), gives the watchdog's own share.
2. The import time each operator and sensor module adds over ``airflow.sdk`` (target <= 15 ms:
   DAG files import them at every parse, so they load no hook, request code or model until a
   task runs), and the hook's (target <= 30 ms: a task imports it when it runs), in fresh
   interpreters; then the figures and targets side by side.
3. With ``enforce_jti`` (a one-time token per request): the per-call time of the first and the
   last 100 of ``--token-calls`` GETs through the hook, side by side with registering each
   new token with Airflow's secrets masker, as the hook did before (its pattern is rebuilt for
   every secret added, so that cost grows with every token). Target: the hook's last 100 calls
   cost what its first 100 did (ratio <= 1.2).

Run: ``.venv/bin/python bench/hook_overhead.py [--calls 2000] [--import-runs 7] [--token-calls 1000]``
(a count of 0 skips that part).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CAMPAIGN_ID = "cd-bench-0001"
ACCOUNT_ID = "0123456789abcdef01234567"
STREAM_ID = "st-bench"
SECRET = "bench-secret-0123456789abcdef-0123456789"
ANSWER = json.dumps(
    {"status": "success", "message": "ok", "data": {"_id": CAMPAIGN_ID, "name": "Bench", "status": "Ready"}}
).encode()


class _Handler(BaseHTTPRequestHandler):
    """Answers every GET with one fixed campaign, over HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes: without this, Nagle and delayed ACKs add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(port_file: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


def _start_server() -> tuple[subprocess.Popen[bytes], int]:
    port_file = Path(tempfile.mkdtemp()) / "port"
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return process, int(port_file.read_text())
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the benchmark server did not start within 20 s")


def _connection(port: int, **extra: object) -> str:
    return json.dumps(
        {
            "conn_type": "kore_campaign",
            "host": f"http://127.0.0.1:{port}",
            "login": "cs-bench",
            "password": SECRET,
            "extra": {"account_id": ACCOUNT_ID, "stream_id": STREAM_ID, **extra},
        }
    )


def per_call_overhead(calls: int) -> float:
    process, port = _start_server()
    try:
        os.environ["AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT"] = _connection(port)
        import requests

        from airflow_campaign_provider.hooks.campaign import DEFAULT_TIMEOUT, CampaignHook
        from airflow_campaign_provider.hooks.deadline import WATCHDOG, DeadlineAdapter

        hook = CampaignHook()
        session = requests.Session()
        watched_session = requests.Session()
        watched_session.mount("http://", DeadlineAdapter())
        token, _ = hook.tokens.token()
        url = f"http://127.0.0.1:{port}/campaign/api/v2/public/{STREAM_ID}/campaign/{CAMPAIGN_ID}"
        headers = hook.api.headers(token, with_body=False)  # the very same headers, built once

        def get(through: requests.Session) -> None:
            response = through.get(
                url, params={"accountId": ACCOUNT_ID}, headers=headers, timeout=DEFAULT_TIMEOUT
            )
            response.raise_for_status()
            assert response.json()["data"]["_id"] == CAMPAIGN_ID

        def bare() -> None:
            get(session)

        def watched() -> None:
            exchange = WATCHDOG.begin(60.0)
            try:
                get(watched_session)
            finally:
                WATCHDOG.end(exchange)

        def through_hook() -> None:
            assert hook.get_campaign(CAMPAIGN_ID)["_id"] == CAMPAIGN_ID

        sides = (through_hook, bare, watched)
        for _ in range(100):  # warm the connection pools and code paths
            for call in sides:
                call()
        times: dict[object, list[float]] = {call: [] for call in sides}
        for index in range(calls):
            for call in sides[index % 3 :] + sides[: index % 3]:  # each side first in turn
                started = time.perf_counter()
                call()
                times[call].append(time.perf_counter() - started)
        hook_times, bare_times, watched_times = times[through_hook], times[bare], times[watched]
        ratios = [h / b for h, b in zip(hook_times, bare_times, strict=True)]
        watch_ratios = [w / b for w, b in zip(watched_times, bare_times, strict=True)]
        hook_median, bare_median = statistics.median(hook_times), statistics.median(bare_times)
        print(f"GET calls, alternating: {calls} through the hook, {calls} through a bare session")
        print(f"  median per call: hook {hook_median * 1e6:.0f} us, bare session {bare_median * 1e6:.0f} us")
        ratio = statistics.median(ratios)
        print(f"  median of per-call ratios hook/bare: {ratio:.3f} (target <= 1.10)")
        print(f"  ratio of medians:                    {hook_median / bare_median:.3f}")
        print(
            f"  the deadline watchdog alone: bare session with it {statistics.median(watched_times) * 1e6:.0f} us,"
            f" median of per-call ratios with/without {statistics.median(watch_ratios):.3f}"
        )
        return ratio
    finally:
        process.terminate()
        process.wait(10)


def one_time_token_cost(calls: int) -> None:
    """Part 3: one-time tokens through the hook, and the masker registration the hook dropped."""
    process, port = _start_server()
    try:
        os.environ["AIRFLOW_CONN_KORE_BENCH_JTI"] = _connection(port, enforce_jti=True)
        from airflow.sdk.log import mask_secret

        from airflow_campaign_provider.hooks.campaign import CampaignHook

        hook = CampaignHook("kore_bench_jti")
        for _ in range(20):  # warm the pool and the code path
            hook.get_campaign(CAMPAIGN_ID)
        hook_times, register_times = [], []
        for _ in range(calls):
            started = time.perf_counter()
            hook.get_campaign(CAMPAIGN_ID)
            hook_times.append(time.perf_counter() - started)
            token, _ = hook.tokens.token()  # one more one-time token, as the old hook registered
            started = time.perf_counter()
            mask_secret(token)
            register_times.append(time.perf_counter() - started)

        def first_last(times: list[float]) -> tuple[float, float]:
            return statistics.median(times[:100]), statistics.median(times[-100:])

        hook_first, hook_last = first_last(hook_times)
        reg_first, reg_last = first_last(register_times)
        print(f"enforce_jti: {calls} GETs through the hook, each with a one-time token")
        print(
            f"  hook call, median of first / last 100: {hook_first * 1e6:.0f} us / {hook_last * 1e6:.0f} us "
            f"(ratio {hook_last / hook_first:.2f}; target <= 1.2)"
        )
        print(
            f"  registering each token with the masker (before): {reg_first * 1e6:.0f} us / "
            f"{reg_last * 1e6:.0f} us (ratio {reg_last / reg_first:.1f})"
        )
        print(
            f"  so a call before this change cost about {(hook_first + reg_first) * 1e6:.0f} us at first "
            f"and {(hook_last + reg_last) * 1e6:.0f} us by call {calls}"
        )
    finally:
        process.terminate()
        process.wait(10)


_IMPORT_PROBE = """
import importlib, sys, time
started = time.perf_counter()
import airflow.sdk
base = time.perf_counter()
importlib.import_module(sys.argv[1])
done = time.perf_counter()
print(base - started, done - base)
"""


#: What DAG files import at every parse (target <= 15 ms each over airflow.sdk), and the hook
#: a task imports when it runs (target <= 30 ms).
def _dag_time_modules() -> list[str]:
    """Every operator and sensor module the provider lists: what DAG files import."""
    from airflow_campaign_provider.get_provider_info import get_provider_info

    info = get_provider_info()
    return [
        module
        for section in ("operators", "sensors")
        for entry in info[section]
        for module in entry["python-modules"]
    ]


_HOOK_MODULE = "airflow_campaign_provider.hooks.campaign"
DAG_TIME_TARGET_MS = 15.0
HOOK_TARGET_MS = 30.0


def import_cost(runs: int) -> dict[str, float]:
    """Part 2: each module's import time over ``airflow.sdk``, median of ``runs`` fresh
    interpreters, the modules interleaved run by run so a busy moment hits them all alike."""
    modules = (*_dag_time_modules(), _HOOK_MODULE)
    added: dict[str, list[float]] = {module: [] for module in modules}
    base: list[float] = []
    for _ in range(runs):
        for module in modules:
            out = subprocess.run(
                [sys.executable, "-c", _IMPORT_PROBE, module], capture_output=True, text=True, check=True
            )
            sdk_seconds, module_seconds = map(float, out.stdout.split()[-2:])
            base.append(sdk_seconds)
            added[module].append(module_seconds)
    medians = {module: statistics.median(times) * 1e3 for module, times in added.items()}
    print(
        f"Import in fresh interpreters ({runs} runs each), over airflow.sdk (alone: median {statistics.median(base) * 1e3:.0f} ms):"
    )
    for module in modules:
        target = HOOK_TARGET_MS if module == _HOOK_MODULE else DAG_TIME_TARGET_MS
        times = added[module]
        verdict = "ok" if medians[module] <= target else "OVER"
        print(
            f"  {module.removeprefix('airflow_campaign_provider.'):<26} median {medians[module]:5.1f} ms "
            f"(min {min(times) * 1e3:5.1f}, max {max(times) * 1e3:5.1f}; target <= {target:.0f} ms) {verdict}"
        )
    return medians


def _summary(ratio: float | None, medians: dict[str, float]) -> None:
    """The figures and their targets side by side."""
    dag_time = {module: ms for module, ms in medians.items() if module != _HOOK_MODULE}
    rows = []
    if dag_time:
        worst = max(dag_time, key=dag_time.__getitem__)
        rows.append(
            (
                "slowest operator/sensor module import over airflow.sdk",
                f"{dag_time[worst]:.1f} ms ({worst.rsplit('.', 2)[-2]}.{worst.rsplit('.', 1)[-1]})",
                f"<= {DAG_TIME_TARGET_MS:.0f} ms",
            )
        )
        ours = {m: ms for m, ms in dag_time.items() if m.endswith(("operators.campaign", "sensors.campaign"))}
        if ours:
            names = " / ".join(".".join(module.rsplit(".", 2)[-2:]) for module in ours)
            figures = " / ".join(f"{ms:.1f}" for ms in ours.values())
            rows.append((f"{names} over airflow.sdk", f"{figures} ms", f"<= {DAG_TIME_TARGET_MS:.0f} ms"))
    if _HOOK_MODULE in medians:
        rows.append(
            (
                "hooks.campaign import over airflow.sdk",
                f"{medians[_HOOK_MODULE]:.1f} ms",
                f"<= {HOOK_TARGET_MS:.0f} ms",
            )
        )
    if ratio is not None:
        rows.append(("hook per-call time / bare requests.Session", f"{ratio:.3f}", "<= 1.10"))
    width = max(len(row[0]) for row in rows)
    print("Summary:")
    for what, figure, target in rows:
        print(f"  {what:<{width}}  {figure:>24}  target {target}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--import-runs", type=int, default=7)
    parser.add_argument("--token-calls", type=int, default=1000)
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    ratio = per_call_overhead(args.calls) if args.calls else None
    medians = import_cost(args.import_runs) if args.import_runs else {}
    if ratio is not None or medians:
        _summary(ratio, medians)
    if args.token_calls:
        one_time_token_cost(args.token_calls)  # last: it leaves thousands of patterns in the masker


if __name__ == "__main__":
    main()
