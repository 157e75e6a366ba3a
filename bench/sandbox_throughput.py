"""Throughput of the sandbox's status call on loopback, with 1, 16 and 64 concurrent clients.

    .venv/bin/python bench/sandbox_throughput.py [--duration 4] [--clients 1,16,64] [--processes N]

The sandbox runs as a child process (its own GIL, rate limit off). The load comes from raw
asyncio streams over keep-alive connections (uvloop when installed), with a pre-built request,
in one or more client processes, so that the generator is not what is being measured: the
table shows the CPU each side used, and a client near 100 % of a core would be the bottleneck.
Target: >= 1,000 requests per second, so the sandbox never limits the other benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox import SandboxServer

TARGET_RPS = 1_000
WARMUP_SECONDS = 0.5


@dataclass
class WorkerResult:
    """What one client process measured inside the timed window."""

    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0


async def _client(
    host: str, port: int, request: bytes, start: float, stop: float, result: WorkerResult
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while (now := time.perf_counter()) < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            done = time.perf_counter()
            if now >= start:
                result.requests += 1
                result.latencies.append(done - now)
                if not head.startswith(b"HTTP/1.1 200"):
                    result.errors += 1
    finally:
        writer.close()


def run_worker(
    host: str, port: int, request: bytes, connections: int, start: float, stop: float
) -> WorkerResult:
    """One client process: `connections` keep-alive connections until `stop` (perf_counter time)."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = WorkerResult()
    cpu = time.process_time()

    async def main() -> None:
        await asyncio.gather(*(_client(host, port, request, start, stop, result) for _ in range(connections)))

    asyncio.run(main())
    result.cpu_seconds = time.process_time() - cpu
    return result


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_request(sandbox: SandboxServer, campaign_id: str) -> bytes:
    """The documented status call as raw HTTP/1.1 bytes, with one reusable JWT (Enforce JTI off)."""
    import jwt

    token = jwt.encode({"appId": sandbox.client_id, "sub": "bench"}, sandbox.client_secret, algorithm="HS256")
    path = (
        f"/campaign/api/v2/public/{sandbox.stream_id}/campaign/{campaign_id}/status"
        f"?accountId={sandbox.account_id}&view=status"
    )
    headers = [
        f"POST {path} HTTP/1.1",
        f"Host: {sandbox.config.host}:{sandbox.port}",
        f"auth: {token}",
        f"iid: {sandbox.iid}",
        f"accountId: {sandbox.account_id}",
        "Content-Type: application/json",
        "Content-Length: 2",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n{}").encode()


def measure(
    pool: ProcessPoolExecutor,
    sandbox: SandboxServer,
    request: bytes,
    clients: int,
    processes: int,
    duration: float,
) -> dict[str, float]:
    """Run one load level and summarise it."""
    processes = max(1, min(processes, clients))
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    begin = time.perf_counter() + 0.5  # time for the workers to connect
    start, stop = begin + WARMUP_SECONDS, begin + WARMUP_SECONDS + duration
    server_cpu = process_cpu_seconds(sandbox.pid)
    futures = [
        pool.submit(run_worker, sandbox.config.host, sandbox.port, request, n, start, stop) for n in shares
    ]
    results = [f.result(timeout=duration + 60) for f in futures]
    server_cpu_after = process_cpu_seconds(sandbox.pid)
    wall = time.perf_counter() - begin
    latencies = sorted(x for r in results for x in r.latencies)
    total = sum(r.requests for r in results)
    return {
        "clients": clients,
        "processes": processes,
        "requests": total,
        "errors": sum(r.errors for r in results),
        "rps": total / duration,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "server_cpu": (server_cpu_after - server_cpu) / wall
        if server_cpu is not None and server_cpu_after
        else -1,
        "client_cpu": max(r.cpu_seconds for r in results) / wall,
    }


def main(argv: list[str] | None = None) -> int:
    """Start a sandbox, run each load level, print the table; exit 1 below the target."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds per level (max 30)")
    parser.add_argument("--clients", default="1,16,64", help="comma-separated concurrency levels")
    parser.add_argument("--processes", type=int, default=1, help="client processes per level (default 1)")
    args = parser.parse_args(argv)
    duration = min(max(args.duration, 0.5), 30.0)
    levels = [int(c) for c in args.clients.split(",")]

    from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(rate_limit_per_window=None, request_log_size=1_000)
    with (
        SandboxServer(config, subprocess=True) as sandbox,
        ProcessPoolExecutor(max_workers=max(1, args.processes), mp_context=get_context("spawn")) as pool,
    ):
        campaign_id = sandbox.admin.seed_campaign("Active", complete_in_seconds=3600)
        request = status_request(sandbox, campaign_id)
        rows = [measure(pool, sandbox, request, n, args.processes, duration) for n in levels]

    print(f"sandbox status call, {duration:g} s per level, loopback, {os.cpu_count()} CPUs")
    print(
        f"{'clients':>7} {'procs':>5} {'requests':>9} {'errors':>6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'server CPU':>10} {'client CPU':>10}"
    )
    for r in rows:
        server_cpu = f"{r['server_cpu']:.0%}" if r["server_cpu"] >= 0 else "n/a"
        print(
            f"{r['clients']:>7} {r['processes']:>5} {r['requests']:>9} {r['errors']:>6} {r['rps']:>8.0f}"
            f" {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {server_cpu:>10} {r['client_cpu']:>10.0%}"
        )
    worst = min(r["rps"] for r in rows)
    verdict = "met" if worst >= TARGET_RPS and not any(r["errors"] for r in rows) else "NOT met"
    print(f"target: >= {TARGET_RPS:,} req/s at every level -> {verdict} (lowest {worst:,.0f} req/s)")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
