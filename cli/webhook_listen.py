"""`bookings webhook-listen`: a local webhook receiver that prints what it verifies.

For trying webhooks on one machine (`bookings up` lets webhooks reach loopback): it
listens on a loopback port, checks each delivery's Standard Webhooks signature with the
webhook's secret, prints the event as one JSON line and answers 204. A forged, altered
or late delivery is answered 401 and said on stderr. A GET answers 200, so a script can
wait until it listens.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

MAX_BODY = 1 << 20


class Listener(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, secret: str, count: int | None) -> None:
        super().__init__((host, port), Handler)
        self.verifier = Webhook(secret)
        self.left = count  # events to print before stopping (None: forever)
        self.seen: set[str] = set()  # webhook-ids printed (delivery is at least once)
        self.lock = threading.Lock()

    def received(self, event: dict[str, Any], webhook_id: str) -> None:
        with self.lock:
            if webhook_id in self.seen:
                return  # a retry of one already printed
            self.seen.add(webhook_id)
            print(json.dumps(event, separators=(",", ":")), flush=True)
            if self.left is not None:
                self.left -= 1
                if self.left <= 0:
                    threading.Thread(target=self.shutdown, daemon=True).start()


class Handler(BaseHTTPRequestHandler):
    server: Listener

    def do_GET(self) -> None:
        self._answer(HTTPStatus.OK, b"bookings webhook listener\n")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            event = self.server.verifier.verify(body, headers)
        except WebhookVerificationError as exc:
            print(f"refused a delivery: {exc}", file=sys.stderr, flush=True)
            self._answer(HTTPStatus.UNAUTHORIZED)
            return
        self._answer(HTTPStatus.NO_CONTENT)
        self.server.received(event, headers.get("webhook-id", ""))

    def _answer(self, status: HTTPStatus, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the events are the output."""


def listen(host: str, port: int, secret: str, count: int | None) -> None:
    with Listener(host, port, secret, count) as server:
        print(f"listening on http://{host}:{server.server_port}/", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
