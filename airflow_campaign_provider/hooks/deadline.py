"""The sync hook's total deadline per attempt: one watchdog thread cuts an exchange that overruns.

A read timeout bounds each ``recv``, not the answer: a server that drips the status line a byte a
second holds a ``requests`` call for ever. urllib3's ``Timeout(total=...)`` does not help: the
time left is computed once, before the status line is read, and set as the timeout of every
later read. So every exchange is registered here with its deadline, and one daemon thread per
process (started on first use) sleeps until the earliest one; at an exchange's deadline it shuts
its socket down, which ends the blocked read at once. The hook then raises the attempt's timeout.

Cost per request: a heap push and three uncontended lock round trips; the thread wakes only at
deadlines of exchanges still running (finished ones are dropped lazily, never waited for).

The pools of :class:`DeadlineAdapter` tie each connection to the exchange using it (claimed when
taken from the pool, released when it goes back), so the watchdog only ever shuts the socket of
the exchange that is late, never one reused since; a connection whose socket it shut is closed,
never pooled. A connection still opening when the deadline passes is shut the moment it opens.
Proxies: direct and HTTP(S) proxies are watched; through a SOCKS proxy only the body is bounded.

Its clock is the real ``time.monotonic``, never :mod:`airflow_campaign_provider.clock`: a thread
that shuts real sockets must not run on a clock a test fakes (a virtual loop's clock cannot even
be read from a thread), and the hook reads the body against the same real deadline.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection


class Exchange:
    """One attempt's HTTP exchange: its deadline, the connection it holds, whether it was cut."""

    __slots__ = ("connection", "cut", "deadline", "ended", "expired", "maybe_sent")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: WatchedConnection | None = None
        self.ended = False
        #: Its deadline passed while it ran.
        self.expired = False
        #: Its socket was shut down for that: whatever was read after it is not an answer.
        self.cut = False
        #: Whether the request may have left before the cut (False: cut before it could be sent).
        self.maybe_sent = False


class DeadlineWatchdog:
    """A heap of exchange deadlines and the one daemon thread that cuts the exchanges past them."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # the thread does not survive a fork

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._due = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, Exchange]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        #: When the thread's current wait ends; None while it waits for a first exchange.
        self._wakes_at: float | None = None
        self._current = threading.local()

    def begin(self, seconds: float) -> Exchange:
        """Watch the exchange this thread starts now; it must end before ``seconds`` have passed."""
        exchange = Exchange(time.monotonic() + seconds)
        with self._lock:
            heap = self._heap
            while heap and heap[0][2].ended:
                heapq.heappop(heap)
            heapq.heappush(heap, (exchange.deadline, next(self._order), exchange))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kore-attempt-deadlines", daemon=True)
                self._thread.start()
            elif self._wakes_at is None or exchange.deadline < self._wakes_at:
                self._due.notify()
        self._current.exchange = exchange
        return exchange

    def end(self, exchange: Exchange) -> bool:
        """Stop watching ``exchange`` (its connection released or closed); True if it was cut."""
        self._current.exchange = None
        with self._lock:
            exchange.ended = True
            if exchange.connection is not None:
                exchange.connection.exchange = None
                exchange.connection = None
            return exchange.cut

    def claim(self, connection: WatchedConnection) -> None:
        """Tie ``connection``, just taken from its pool, to this thread's running exchange."""
        exchange: Exchange | None = getattr(self._current, "exchange", None)
        if exchange is None or exchange.ended:
            return
        with self._lock:
            exchange.connection = connection
            connection.exchange = exchange
            if exchange.expired and connection.sock is not None:  # past due before it was sent
                _cut(exchange, connection, maybe_sent=False)

    def opened(self, connection: WatchedConnection) -> None:
        """``connection`` has just opened: cut it if its exchange expired while it was opening."""
        if connection.exchange is None:
            return
        with self._lock:
            exchange = connection.exchange
            if exchange is not None and exchange.expired:
                _cut(exchange, connection, maybe_sent=False)

    def release(self, connection: WatchedConnection) -> bool:
        """Untie ``connection`` as it goes back to its pool; False if its socket was shut (drop it)."""
        exchange = connection.exchange
        if exchange is None:
            return True
        with self._lock:
            connection.exchange = None
            exchange.connection = None
            return not exchange.cut

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                heap = self._heap
                while heap and (heap[0][2].ended or heap[0][0] <= now):
                    exchange = heapq.heappop(heap)[2]
                    if not exchange.ended:
                        self._expire(exchange)
                self._wakes_at = heap[0][0] if heap else None
                self._due.wait(None if self._wakes_at is None else self._wakes_at - now)

    @staticmethod
    def _expire(exchange: Exchange) -> None:
        """Past its deadline: cut its connection now, or as it opens if it is still opening."""
        exchange.expired = True
        connection = exchange.connection
        if connection is not None and connection.sock is not None:
            _cut(exchange, connection, maybe_sent=True)


def _cut(exchange: Exchange, connection: HTTPConnection, *, maybe_sent: bool) -> None:
    """Shut the connection's socket down: a read blocked on it returns at once, in any thread.

    Shut down, not closed: closing from another thread could free the descriptor for reuse while
    the reading thread still holds it. The pool's own ``close`` follows in the reading thread.
    """
    exchange.cut = True
    exchange.maybe_sent = maybe_sent
    sock: Any = connection.sock
    raw = sock if isinstance(sock, socket.socket) else getattr(sock, "socket", None)
    if isinstance(raw, socket.socket):
        with contextlib.suppress(OSError):  # already closed or reset: the read fails by itself
            socket.socket.shutdown(raw, socket.SHUT_RDWR)  # the TCP socket under TLS too


#: The process's watchdog; its thread starts with the first watched exchange.
WATCHDOG = DeadlineWatchdog()


class WatchedConnection(HTTPConnection):
    """A connection the watchdog can cut: it belongs to at most one exchange at a time."""

    exchange: Exchange | None = None

    def connect(self) -> None:
        super().connect()
        WATCHDOG.opened(self)


class WatchedHTTPSConnection(WatchedConnection, HTTPSConnection):
    """The TLS twin of :class:`WatchedConnection`."""


class WatchedPool(HTTPConnectionPool):
    """A pool whose connections are claimed by the exchange taking them, released on return."""

    ConnectionCls = WatchedConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        if isinstance(connection, WatchedConnection):
            WATCHDOG.claim(connection)
        return connection

    def _put_conn(self, conn: Any) -> None:
        if isinstance(conn, WatchedConnection) and not WATCHDOG.release(conn):
            conn.close()  # its socket was shut down: never pooled
            conn = None
        super()._put_conn(conn)


class WatchedHTTPSPool(WatchedPool, HTTPSConnectionPool):
    """The TLS twin of :class:`WatchedPool`."""

    ConnectionCls = WatchedHTTPSConnection


_WATCHED_POOLS = {"http": WatchedPool, "https": WatchedHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose pools (direct and through HTTP(S) proxies) the watchdog can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools are classes of their own
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager
