"""`python -m airflow_campaign_provider.sandbox`: serve a sandbox until SIGINT or SIGTERM.

It prints the `AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT='{…}'` line pointing a connection at it
(on stdout; prefix `export ` in a shell) and a human-readable banner on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from airflow_campaign_provider.sandbox.config import SandboxConfig, config_from_dict, load_seed
from airflow_campaign_provider.sandbox.server import DEFAULT_CONN_ID, SandboxServer, format_env_line

# flag -> SandboxConfig field, for the flags that map one to one
_FIELDS = {
    "host": "host",
    "port": "port",
    "db": "db_path",
    "client_id": "client_id",
    "client_secret": "client_secret",
    "account_id": "account_id",
    "stream_id": "stream_id",
    "iid": "iid",
    "rate_window": "rate_limit_window_seconds",
    "preparing_seconds": "preparing_seconds",
    "max_page_size": "max_page_size",
    "request_log_size": "request_log_size",
}
_FAULT_FIELDS = {
    "error_rate": "error_rate",
    "latency": "latency_seconds",
    "drop_rate": "drop_rate",
    "fault_seed": "random_seed",
}


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="python -m airflow_campaign_provider.sandbox",
        description="Local Kore.ai Campaign Management API v2 sandbox (no account, no real SMS).",
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default: a free one)")
    p.add_argument("--db", metavar="FILE", help="keep state in this SQLite file (survives restarts)")
    p.add_argument("--seed", metavar="FILE", help="JSON seed: contact_lists, dnc_lists, templates, campaigns")
    p.add_argument(
        "--conn-id", default=DEFAULT_CONN_ID, help="connection id of the printed AIRFLOW_CONN_ line"
    )
    p.add_argument("--client-id")
    p.add_argument("--client-secret")
    p.add_argument("--account-id")
    p.add_argument("--stream-id")
    p.add_argument("--iid", help="iid header value if not the stream id")
    p.add_argument("--enforce-jti", action="store_true", help="refuse tokens without a new jti")
    p.add_argument("--rate-limit", type=int, metavar="N", help="requests per window per account; 0 = off")
    p.add_argument("--rate-window", type=float, metavar="SECONDS", help="rate-limit window (default 60)")
    p.add_argument("--no-retry-after", action="store_true", help="no Retry-After header on 429 answers")
    p.add_argument("--preparing-seconds", type=float, metavar="S", help="Preparing -> Ready delay")
    p.add_argument("--send-rate", type=float, metavar="PER_SECOND", help="messages per second per campaign")
    p.add_argument(
        "--calling-hours",
        choices=("enforce", "ignore"),
        help="send only inside each campaign's calling hours, as Kore does (enforce, the default "
        "without --config), or at once (ignore)",
    )
    p.add_argument("--max-page-size", type=int, help="largest page the list endpoint returns")
    p.add_argument("--request-log-size", type=int, help="how many requests the admin log keeps")
    p.add_argument("--error-rate", type=float, help="fault: share of requests answered 503")
    p.add_argument("--latency", type=float, metavar="SECONDS", help="fault: delay added to every request")
    p.add_argument("--drop-rate", type=float, help="fault: share of connections closed without an answer")
    p.add_argument("--fault-seed", type=int, help="seed of the fault random generator")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="a whole SandboxConfig as JSON, from FILE or, with '-', one line of stdin (flags override it)",
    )
    p.add_argument("--quiet", action="store_true", help="no banner on stderr")
    p.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when stdin closes (parent died)")
    return p


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """The SandboxConfig the flags describe (ValueError naming any bad value)."""
    data: dict[str, Any] = _read_config(args.config) if args.config else SandboxConfig().to_dict()
    data.update(
        {field: getattr(args, flag) for flag, field in _FIELDS.items() if getattr(args, flag) is not None}
    )
    faults = data.setdefault("faults", {})
    faults.update(
        {
            field: getattr(args, flag)
            for flag, field in _FAULT_FIELDS.items()
            if getattr(args, flag) is not None
        }
    )
    if args.seed:
        data["seed"] = load_seed(args.seed).to_dict()
    if args.enforce_jti:
        data["enforce_jti"] = True
    if args.no_retry_after:
        data["retry_after_header"] = False
    if args.calling_hours is not None:
        data["enforce_calling_hours"] = args.calling_hours == "enforce"
    elif not args.config:  # a sandbox a person starts behaves as Kore does unless told otherwise
        data["enforce_calling_hours"] = True
    if args.rate_limit is not None:
        data["rate_limit_per_window"] = args.rate_limit or None
    if args.send_rate is not None:
        if args.send_rate <= 0:
            raise ValueError("--send-rate must be > 0")
        data["send_interval_seconds"] = 1.0 / args.send_rate
    return config_from_dict(data)


def _read_config(source: str) -> dict[str, Any]:
    try:
        text = sys.stdin.readline() if source == "-" else Path(source).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the config from {source}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the config from {source} is not a JSON object")
    return data


def _stop_at_eof(stop: threading.Event) -> None:
    sys.stdin.read()
    stop.set()


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox until SIGINT/SIGTERM (or stdin EOF with --exit-on-stdin-eof)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with SandboxServer(config) as server:
        if not args.quiet:
            print(
                f"Kore.ai campaign sandbox on {server.url} (API docs: {server.url}/docs, admin: {server.url}/_sandbox)",
                file=sys.stderr,
                flush=True,
            )
        print(format_env_line(args.conn_id, server.connection_json()), flush=True)
        if args.exit_on_stdin_eof:
            threading.Thread(target=_stop_at_eof, args=(stop,), daemon=True).start()
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
