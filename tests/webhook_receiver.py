"""A webhook receiver on loopback for the tests: it records every call and answers as told
(fail the first N calls, fail always, or hold a call until released)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    fail_first: int = 0  # answer 500 to this many calls, then 204
    fail_always: bool = False
    redirect_to: str | None = None  # answer 302 with this Location
    hold: threading.Event | None = None  # set: calls wait until it is released
    held: threading.Event = field(default_factory=threading.Event)  # a call is waiting
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks?x=1"

    def answer(self, call: Call) -> int:
        with self.lock:
            self.calls.append(call)
            count = len(self.calls)
        if self.hold is not None and not self.hold.is_set():
            self.held.set()
            self.hold.wait(60)
        if self.redirect_to is not None:
            return 302
        if self.fail_always or count <= self.fail_first:
            return 500
        return 204

    def of_type(self, kind: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.json["type"] == kind]


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            status = receiver.answer(Call({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status)
            if status == 302 and receiver.redirect_to:
                self.send_header("location", receiver.redirect_to)
            payload = b"receiver says no: " + b"x" * 500 if status >= 400 else b""
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()
