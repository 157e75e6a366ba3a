"""Kore's JWT rules and servers that misbehave, met over real loopback HTTP through the public hook.

The sandbox applies Kore's two JTI rules to every token that carries a ``jti``, and its fault
controls make it answer like each hostile server: a 500 that mentions a rate limit, absurd
``Retry-After`` values, answers dripped a byte at a time, padded past any sane size, gzip bombs,
JSON nested 100,000 deep, list pages whose ``hasMore`` is a string or never false. Each test
asserts what the provider sends (the sandbox's request log) and how it fails: once, typed,
naming the field, within the caps ``docs/reliability.md`` lists. A status line and headers
dripped a byte at a time come from a raw loopback server here (:class:`HeaderDripServer`):
the sandbox's HTTP server writes them whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import select
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import MAX_ANSWER_BYTES, RetryPolicy
from airflow_campaign_provider.budget import AsyncRequestBudget, BudgetSettings
from airflow_campaign_provider.exceptions import (
    CampaignConnectionConfigError,
    CampaignOutcomeUnknownError,
    CampaignResponseError,
    CampaignServerError,
    CampaignTransportError,
)
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.hooks.campaign_async import CampaignAsyncHook
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.run_dag import request_kind
from tests.waiting import wait_until

from .conftest import add_figures

TITLE = "Hostile servers and Kore's JWT rules"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Back-off waits the sync and async hooks asked for, without waiting."""
    recorded: list[float] = []

    async def record_async(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(clock, "backoff", recorded.append)
    monkeypatch.setattr(clock, "backoff_async", record_async)
    return recorded


def kinds(sandbox: SandboxServer) -> list[tuple[str, int | None]]:
    return [(request_kind(record), record["status"]) for record in sandbox.admin.requests()]


def use_connection(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    """Point the default connection at the sandbox with ``changes`` (``extra`` merged)."""
    connection = json.loads(sandbox.connection_json())
    connection["extra"].update(changes.pop("extra", {}))
    connection.update(changes)
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", json.dumps(connection))


def status_sync(policy: RetryPolicy | None = None) -> Callable[[str], str]:
    hook = CampaignHook(retry_policy=policy)
    return hook.get_campaign_status


def status_async(policy: RetryPolicy | None = None) -> Callable[[str], str]:
    def read(campaign_id: str) -> str:
        async def run() -> str:
            # A budget that pauses for nothing after a 429: these tests measure the hook's own
            # back-off (recorded, not slept); the budget's capped pause has a test of its own.
            budget = AsyncRequestBudget(
                BudgetSettings(requests=60, max_pause_seconds=0), "sandbox", "account"
            )
            hook = CampaignAsyncHook(retry_policy=policy, budget=budget)
            try:
                return await hook.get_campaign_status(campaign_id)
            finally:
                await hook.aclose()

        return asyncio.run(run())

    return read


BOTH = pytest.mark.parametrize("reader", [status_sync, status_async], ids=["sync hook", "async hook"])


# --- 1. Kore's JTI rules -------------------------------------------------------------------


@pytest.mark.parametrize("enforce_jti", [False, True], ids=["jti optional", "enforce jti"])
@BOTH
def test_no_jti_is_ever_sent_twice_so_no_call_is_refused(
    kore_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
    minted: list[str],
    reader: Callable[..., Callable[[str], str]],
    enforce_jti: bool,
) -> None:
    import jwt

    admin = kore_sandbox.admin
    admin.update_config(enforce_jti=enforce_jti)
    use_connection(kore_sandbox, monkeypatch, extra={"enforce_jti": enforce_jti})
    campaign_id = admin.seed_campaign("Ready")
    admin.clear_requests()
    read = reader()
    for _ in range(5):
        assert read(campaign_id) == "Ready"

    assert kinds(kore_sandbox) == [("status", 200)] * 5  # not one "possibly a replay"
    jtis = [jwt.decode(token, options={"verify_signature": False}).get("jti") for token in minted]
    sent_jtis = [jti for jti in jtis if jti]
    assert len(sent_jtis) == len(set(sent_jtis)) == (5 if enforce_jti else 0)
    add_figures(TITLE, [(f"5 status reads, {reader.__name__}, enforce_jti={enforce_jti}: 401s", "0")])


# --- 3. only a sure refusal resends a create ------------------------------------------------


def test_a_500_that_mentions_a_rate_limit_never_resends_a_create(
    kore_sandbox: SandboxServer, sleeps: list[float]
) -> None:
    admin = kore_sandbox.admin
    admin.set_faults(error_rate=1.0, error_status=500, error_message="Internal error in rate limiter")
    hook = CampaignHook()

    with pytest.raises(CampaignServerError, match="rate limiter"):
        hook.create_sms_campaign({"name": "Spring"})

    assert kinds(kore_sandbox) == [("create", 500)]
    assert sleeps == []
    add_figures(TITLE, [("create answered 500 'Internal error in rate limiter': sends", "1")])


# --- 4. calls that never end --------------------------------------------------------------


@BOTH
def test_an_answer_dripped_a_byte_at_a_time_ends_at_the_attempt_deadline(
    kore_sandbox: SandboxServer, sleeps: list[float], reader: Callable[..., Callable[[str], str]]
) -> None:
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Ready")
    # ~100 bytes: 20 s, each read getting a byte at once; the 2 s deadline leaves a loaded machine
    # time to connect and send before it cuts (at 0.5 s a loaded run sometimes cut the second
    # attempt before it was sent).
    admin.set_faults(drip_seconds_per_byte=0.2)
    read = reader(RetryPolicy(max_attempts=2, max_attempt_seconds=2.0))

    with pytest.raises(CampaignTransportError, match="deadline"):
        read(campaign_id)

    # The sandbox logs a request when its loop gets to it, which a loaded machine can put after
    # the client has given up on it.
    wait_until(lambda: len(kinds(kore_sandbox)) >= 2, what="the sandbox logging both attempts")
    assert kinds(kore_sandbox) == [("status", 200)] * 2  # one per attempt, each cut at 2 s
    assert len(sleeps) == 1


class HeaderDripServer:
    """A keep-alive HTTP server on loopback whose every answer's status line and headers come one
    byte per ``pause`` seconds (each read gets a byte well within any read timeout), then a
    well-formed status body. Counts connections and requests, and records for each request whether
    the client hung up before the drip ended."""

    ANSWER_BODY = json.dumps({"status": "success", "data": {"id": "cd-1", "status": "Ready"}}).encode()

    def __init__(self, pause: float, padding: int = 500) -> None:
        self.pause = pause
        self.head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * padding + b"\r\n"
            b"Content-Length: " + str(len(self.ANSWER_BODY)).encode() + b"\r\n\r\n"
        )
        self.connections = 0
        self.requests = 0
        self._outcomes: list[str] = []
        self._answered = threading.Condition()
        self._open: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._handlers: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="header-drip", daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def outcomes(self, count: int) -> list[str]:
        """The outcome of each request, once ``count`` requests have one (an explicit event)."""
        with self._answered:
            self._answered.wait_for(lambda: len(self._outcomes) >= count, timeout=60)
            return list(self._outcomes)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # shut down
            self.connections += 1
            self._open.append(connection)
            handler = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._handlers.append(handler)
            handler.start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            while self._answer(connection):
                pass

    def _answer(self, connection: socket.socket) -> bool:
        """Answer one request; False once the client has hung up."""
        received = b""
        while b"\r\n\r\n" not in received:
            data = connection.recv(65536)
            if not data:
                return False
            received += data
        self.requests += 1
        if self.pause:
            for byte in self.head:
                readable, _, _ = select.select([connection], [], [], self.pause)
                if readable and not connection.recv(65536):  # EOF, not a request body: hung up
                    self._record("hung up mid-drip")
                    return False
                connection.sendall(bytes([byte]))
        else:
            connection.sendall(self.head)
        connection.sendall(self.ANSWER_BODY)
        self._record("answered")
        return True

    def _record(self, outcome: str) -> None:
        with self._answered:
            self._outcomes.append(outcome)
            self._answered.notify_all()

    def close(self) -> None:
        """Stop accepting, hang up on every client and wait for every handler."""
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (a close would not)
        self._acceptor.join()
        self._listener.close()
        for connection in self._open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for handler in self._handlers:
            handler.join()


@pytest.fixture
def serve_answers(
    kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[float], HeaderDripServer]]:
    """``serve_answers(pause)``: a :class:`HeaderDripServer` the default connection points at."""
    servers: list[HeaderDripServer] = []

    def serve(pause: float) -> HeaderDripServer:
        servers.append(HeaderDripServer(pause))
        use_connection(kore_sandbox, monkeypatch, host=servers[-1].url)
        return servers[-1]

    yield serve
    for server in servers:
        server.close()


#: About 28 s to drip a whole status line and headers: 14 times the attempt deadline below.
DRIP_PAUSE = 0.05
#: Long enough for a loaded machine to connect and send before the cut, short beside the drip.
DEADLINE = 2.0


@BOTH
def test_a_status_line_dripped_a_byte_at_a_time_ends_at_the_attempt_deadline(
    serve_answers: Callable[[float], HeaderDripServer],
    sleeps: list[float],
    reader: Callable[..., Callable[[str], str]],
) -> None:
    server = serve_answers(DRIP_PAUSE)
    read = reader(RetryPolicy(max_attempts=2, max_attempt_seconds=DEADLINE))

    with pytest.raises(CampaignTransportError, match=r"deadline of 2 s"):
        read("cd-1")

    # Each attempt was cut at its deadline: the client hung up while the headers were still
    # coming, and the cut connection was dropped, not reused for the retry.
    assert server.outcomes(2) == ["hung up mid-drip"] * 2
    assert server.requests == server.connections == 2
    assert len(sleeps) == 1
    add_figures(
        TITLE,
        [(f"status line dripped for ~28 s, {reader.__name__}: attempts cut at {DEADLINE:g} s", "2 of 2")],
    )


def test_a_create_whose_headers_drip_past_the_deadline_is_never_resent(
    serve_answers: Callable[[float], HeaderDripServer], sleeps: list[float]
) -> None:
    server = serve_answers(DRIP_PAUSE)
    hook = CampaignHook(retry_policy=RetryPolicy(max_attempt_seconds=DEADLINE))

    with pytest.raises(CampaignOutcomeUnknownError, match="deadline"):
        hook.create_sms_campaign({"name": "Spring"})

    assert server.outcomes(1) == ["hung up mid-drip"]
    assert server.requests == 1  # the create may have been acted on: looked up, never re-sent
    assert sleeps == []


def test_the_deadline_watchdog_keeps_connections_pooled_and_is_one_thread(
    serve_answers: Callable[[float], HeaderDripServer], sleeps: list[float]
) -> None:
    server = serve_answers(0.0)  # answers at once
    hook = CampaignHook(retry_policy=RetryPolicy(max_attempt_seconds=5))

    for _ in range(20):
        assert hook.get_campaign_status("cd-1") == "Ready"

    assert server.outcomes(20) == ["answered"] * 20
    assert server.connections == 1  # every call reused the one pooled connection
    watchdogs = [thread for thread in threading.enumerate() if thread.name == "kore-attempt-deadlines"]
    assert len(watchdogs) == 1
    hook.close()


def test_has_more_as_a_string_is_read_strictly(kore_sandbox: SandboxServer, sleeps: list[float]) -> None:
    admin = kore_sandbox.admin
    admin.seed_campaigns([{"status": "Ready"} for _ in range(3)])
    admin.set_faults(list_pages="string")  # hasMore: "false" on the last page

    campaigns = list(itertools.islice(CampaignHook().iter_campaigns(page_size=2), 50))

    assert len(campaigns) == 3
    assert kinds(kore_sandbox) == [("list", 200)] * 2


def test_a_list_that_never_ends_stops_on_a_page_that_adds_nothing(
    kore_sandbox: SandboxServer, sleeps: list[float]
) -> None:
    admin = kore_sandbox.admin
    admin.seed_campaigns([{"status": "Ready"} for _ in range(3)])
    admin.set_faults(list_pages="endless")  # hasMore: true, no totalPages, page 1 every time

    campaigns = list(itertools.islice(CampaignHook().iter_campaigns(page_size=2), 50))

    assert len(campaigns) == len({campaign["_id"] for campaign in campaigns}) == 2
    assert kinds(kore_sandbox) == [("list", 200)] * 2
    add_figures(TITLE, [("list answering hasMore=true for ever: requests", "2")])


@BOTH
def test_tls_to_a_plain_http_port_fails_at_once_naming_the_host(
    kore_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
    reader: Callable[..., Callable[[str], str]],
) -> None:
    use_connection(kore_sandbox, monkeypatch, host=kore_sandbox.url.replace("http://", "https://"))

    with pytest.raises(CampaignConnectionConfigError, match=r"host.*TLS"):
        reader()("cd-1")

    assert sleeps == []
    add_figures(TITLE, [(f"TLS to a plain-HTTP port, {reader.__name__}: attempts", "1, no back-off")])


def test_a_create_over_tls_to_a_plain_http_port_is_not_outcome_unknown(
    kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    use_connection(kore_sandbox, monkeypatch, host=kore_sandbox.url.replace("http://", "https://"))

    with pytest.raises(CampaignConnectionConfigError) as raised:
        CampaignHook().create_sms_campaign({"name": "Spring"})

    assert raised.value.field == "host"
    assert sleeps == []


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"account_id": "acct\r\nX-Injected: 1"}, "extra.account_id"),
        ({"iid": "st-ünïcødé-€"}, "extra.iid"),
    ],
    ids=["CR/LF in account id", "non-Latin-1 iid"],
)
@BOTH
def test_a_header_value_that_cannot_be_sent_fails_before_any_request(
    kore_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
    reader: Callable[..., Callable[[str], str]],
    extra: dict[str, str],
    field: str,
) -> None:
    use_connection(kore_sandbox, monkeypatch, extra=extra)

    with pytest.raises(CampaignConnectionConfigError) as raised:
        reader()("cd-1")

    assert raised.value.field == field
    assert kore_sandbox.admin.requests() == []
    assert sleeps == []


# --- 5. waits a server asks for -----------------------------------------------------------


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [
        ("1e9", 120.0, 120.25),
        ("inf", None, None),  # unusable: as if absent, the policy's own rate-limit back-off
        ("nan", None, None),
        ("-5", None, None),
        ("Wed, 01 Jan 2099 00:00:00 GMT", 120.0, 120.25),
        ("Mon, 01 Jan 2001 00:00:00 GMT", None, None),  # in the past
        ("0", 1.0, 1.25),  # no tight loop
    ],
)
@BOTH
def test_every_wait_a_server_asks_for_is_capped(
    kore_sandbox: SandboxServer,
    sleeps: list[float],
    reader: Callable[..., Callable[[str], str]],
    retry_after: str,
    low: float | None,
    high: float | None,
) -> None:
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Ready")
    admin.set_faults(burst_429=1, retry_after=retry_after)

    assert reader()(campaign_id) == "Ready"

    (wait,) = sleeps
    policy = RetryPolicy()
    if low is None:  # the policy's first rate-limit slice: a quarter window, jittered
        low, high = policy.rate_limit_window_seconds / 4 * 0.75, policy.rate_limit_window_seconds / 4
    assert high is not None
    assert low <= wait <= high


def test_an_absurd_retry_after_holds_the_shared_budget_no_longer_than_the_cap(
    kore_sandbox: SandboxServer, sleeps: list[float]
) -> None:
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Ready")
    admin.set_faults(burst_429=1, retry_after="1e9")
    policy = RetryPolicy(min_retry_after_seconds=0.05, max_retry_after_seconds=0.2)

    async def run() -> str:
        # The per-process budget of the account, its 429 pauses capped like budget_max_pause_seconds.
        settings = BudgetSettings(requests=60, max_pause_seconds=policy.max_retry_after_seconds)
        budget = AsyncRequestBudget(settings, "sandbox", "account")
        hook = CampaignAsyncHook(retry_policy=policy, budget=budget)
        try:
            # Without the cap the budget would pause for 1e9 s and this read wait out its wait
            # limit (five windows, 300 s), far past the 10 s given here, and never be sent again.
            status = await asyncio.wait_for(hook.get_campaign_status(campaign_id), timeout=10)
        finally:
            await hook.aclose()
        assert budget.sent == 2  # the retry took its slot after the capped pause
        return status

    assert asyncio.run(run()) == "Ready"
    assert kinds(kore_sandbox) == [("status", 429), ("status", 200)]


# --- 7. answers without limits -------------------------------------------------------------


HUGE = pytest.mark.parametrize(
    ("faults", "problem"),
    [
        ({"padding_bytes": MAX_ANSWER_BYTES + 1}, "larger than"),
        ({"padding_bytes": 64 * 1024 * 1024, "gzip_answers": True}, "larger than"),  # a gzip bomb
        ({"deep_json_depth": 100_000}, "not JSON"),
    ],
    ids=["oversized body", "gzip bomb", "JSON 100,000 deep"],
)


@HUGE
@BOTH
def test_an_answer_without_limits_is_a_response_error(
    kore_sandbox: SandboxServer,
    sleeps: list[float],
    reader: Callable[..., Callable[[str], str]],
    faults: dict[str, Any],
    problem: str,
) -> None:
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Ready")
    admin.set_faults(**faults)

    with pytest.raises(CampaignResponseError, match=problem):
        reader()(campaign_id)

    assert kinds(kore_sandbox) == [("status", 200)]  # not retried: the server answered


@pytest.fixture(autouse=True)
def _quiet_faults(kore_sandbox: SandboxServer) -> Iterator[None]:
    yield
    kore_sandbox.admin.clear_faults()


# --- 6. inputs that would reach the wire wrong ----------------------------------------------


@pytest.mark.parametrize(
    "campaign_id", [".", "..", "cd-1\r\nX: y", "c" * 129], ids=["dot", "dotdot", "crlf", "129 chars"]
)
def test_a_campaign_id_that_would_reach_the_wire_wrong_is_refused_before_any_request(
    kore_sandbox: SandboxServer, sleeps: list[float], campaign_id: str
) -> None:
    from airflow_campaign_provider.exceptions import InvalidCampaignArgumentError
    from airflow_campaign_provider.operators.campaign import DeleteCampaignOperator

    hook = CampaignHook()
    for call in (hook.delete_campaign, hook.get_campaign_status, hook.stop_campaign):
        with pytest.raises(InvalidCampaignArgumentError) as raised:
            call(campaign_id)
        assert raised.value.field == "campaign_id"
    with pytest.raises(InvalidCampaignArgumentError, match="campaign_id"):
        DeleteCampaignOperator(task_id="delete", campaign_id=campaign_id)
    assert kore_sandbox.admin.requests() == []


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"extra": {"stream_id": ".."}}, "extra.stream_id", "collapse"),
        ({"extra": {"stream_id": "st-1\nX: y"}}, "extra.stream_id", "control"),
        ({"extra": {"account_id": "a" * 129}}, "extra.account_id", "at most 128"),
        ({"host": "http://user:pass@127.0.0.1:1"}, "host", "Basic auth"),
        ({"host": "http://127.0.0.1:1/api"}, "host", "without a path"),
        ({"host": "http://127.0.0.1:1?x=1"}, "host", "without a path, query"),
        ({"host": "http://127.0.0.1:1#frag"}, "host", "fragment"),
        ({"host": "http://::1"}, "host", "brackets"),
    ],
    ids=["stream ..", "stream LF", "account 129", "userinfo", "path", "query", "fragment", "bare ipv6"],
)
@BOTH
def test_a_connection_that_would_reach_the_wire_wrong_is_refused_before_any_request(
    kore_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
    reader: Callable[..., Callable[[str], str]],
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    use_connection(kore_sandbox, monkeypatch, **changes)

    with pytest.raises(CampaignConnectionConfigError, match=rule) as raised:
        reader()("cd-1")

    assert raised.value.field == field
    assert kore_sandbox.admin.requests() == []


@pytest.mark.parametrize(
    ("host", "port", "base_url"),
    [
        ("http://[::1]", 8080, "http://[::1]:8080"),
        ("[::1]:9000", None, "https://[::1]:9000"),
        ("kore.example.test/", 8443, "https://kore.example.test:8443"),
    ],
)
def test_the_port_lands_after_the_host_ipv6_included(
    monkeypatch: pytest.MonkeyPatch, host: str, port: int | None, base_url: str
) -> None:
    connection = {"conn_type": "kore_campaign", "host": host, "port": port, "login": "c", "password": "s"}
    connection["extra"] = {"account_id": "acct", "stream_id": "st-1"}
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", json.dumps(connection))
    assert CampaignHook().settings.base_url == base_url


# --- 8. a kill never leaves a campaign texting ---------------------------------------------


def test_a_kill_while_the_play_is_in_flight_stops_the_campaign(
    kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    from airflow_campaign_provider.operators.campaign import StartCampaignOperator

    from .harness import task_context

    admin = kore_sandbox.admin
    admin.update_config(send_interval_seconds=5.0)  # once played, it stays Active a good while
    campaign_id = admin.seed_campaign("Ready")
    operator = StartCampaignOperator(task_id="start", campaign_id=campaign_id)
    play = operator.hook.start_campaign

    def killed_before_the_answer_is_read(*args: Any, **kwargs: Any) -> Any:
        play(*args, **kwargs)  # Kore has acted on the play; the answer is not back in the task yet
        operator.on_kill()
        raise KeyboardInterrupt  # the kill ends the task here

    monkeypatch.setattr(operator.hook, "start_campaign", killed_before_the_answer_is_read)
    with pytest.raises(KeyboardInterrupt):
        operator.execute(task_context())

    assert CampaignHook().get_campaign_status(campaign_id) == "Stopped"
    assert [kind for kind, _ in kinds(kore_sandbox)][-2:] == ["stop", "status"]


def test_a_retry_that_finds_its_campaign_active_stops_it_when_killed(
    kore_sandbox: SandboxServer, sleeps: list[float]
) -> None:
    from airflow_campaign_provider.operators.campaign import StartCampaignOperator

    from .harness import FakeTaskInstance, task_context

    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Active", complete_in_seconds=600)
    first = StartCampaignOperator(task_id="start", campaign_id=campaign_id)
    assert first.execute(task_context(FakeTaskInstance(try_number=1))) == "Active"
    first.on_kill()  # try 1 found it Active: someone else's, left alone
    assert CampaignHook().get_campaign_status(campaign_id) == "Active"

    retry = StartCampaignOperator(task_id="start", campaign_id=campaign_id)
    assert retry.execute(task_context(FakeTaskInstance(try_number=2))) == "Active"
    retry.on_kill()  # try 2: an earlier try of this task may have played it

    assert CampaignHook().get_campaign_status(campaign_id) == "Stopped"
