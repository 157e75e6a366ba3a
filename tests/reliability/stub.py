"""A tiny Kore stand-in on loopback that answers whatever a test scripts, well-formed or not.

The sandbox always answers like Kore; this one answers an HTML page with status 200, JSON
lacking the field the provider needs, an API-level failure, and so on, over real HTTP, so the
hook (requests) and the trigger (httpx) meet them exactly as they would meet a broken proxy.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    """What the stub sends back: a status, a raw body and its content type."""

    status: int = 200
    body: str = ""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Answer:
        return cls(status, json.dumps(value))


class StubKore:
    """Answers every request whose path ends with a scripted suffix (the longest match wins);
    anything else gets a 404. Records ``(method, path)`` of every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Answer] = {}
        self.received: list[tuple[str, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                stub.received.append((self.command, path))
                answer = stub.answer_for(self.command, path)
                data = answer.body.encode("utf-8")
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="stub-kore", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def answer_for(self, method: str, path: str) -> Answer:
        matches = [
            (suffix, a) for (m, suffix), a in self.routes.items() if m == method and path.endswith(suffix)
        ]
        if not matches:
            return Answer.json({"errors": [{"msg": "no such route in the stub"}]}, status=404)
        return max(matches, key=lambda match: len(match[0]))[1]

    def route(self, method: str, suffix: str, answer: Answer) -> None:
        self.routes[(method, suffix)] = answer

    def connection(self) -> dict[str, Any]:
        return {
            "conn_type": "kore_campaign",
            "host": self.url,
            "login": "cs-stub-client",
            "password": "stub-client-secret-0123456789abcdef",
            "extra": {"account_id": "stub-account", "stream_id": "st-stub"},
        }

    def __enter__(self) -> StubKore:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
