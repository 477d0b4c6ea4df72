"""One webhook request: signed (Standard Webhooks), to the address that was checked, with
a 10 s timeout, no redirects, and only a short excerpt of the answer kept."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import urllib3
import urllib3.connection
from standardwebhooks import Webhook as Signer

from models.webhooks.urls import Target

TIMEOUT_SECONDS = 10.0
EXCERPT_BYTES = 200
USER_AGENT = "bookings-webhooks/1"


@dataclass(frozen=True)
class Sent:
    status_code: int | None  # None: no answer (refused, timed out, TLS failed)
    error: str | None  # what went wrong, or the start of a non-2xx answer


def signed_headers(secret: str, event_id: str, at: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers: id, timestamp (epoch seconds), v1 HMAC-SHA256."""
    at = at.astimezone(UTC)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Signer(secret).sign(event_id, at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def encode(body: dict[str, object]) -> str:
    return json.dumps(body, separators=(",", ":"), default=str)


def send(
    target: Target, headers: dict[str, str], body: str, *, deadline: float = TIMEOUT_SECONDS
) -> Sent:
    """POST the body to the checked address; the Host header and TLS name stay the URL's.

    `deadline` bounds the whole exchange, not each read: a watchdog shuts the socket down
    when it passes, so a receiver that drips its answer a byte at a time cannot hold a
    sender thread past it."""
    host = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    conn: urllib3.connection.HTTPConnection
    if target.scheme == "https":
        conn = urllib3.connection.HTTPSConnection(
            target.address,
            target.port,
            timeout=deadline,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        conn = urllib3.connection.HTTPConnection(target.address, target.port, timeout=deadline)
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(deadline, cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request(
            "POST",
            target.path,
            body=body.encode(),
            headers={**headers, "host": host},
            preload_content=False,
        )
        response = conn.getresponse()
        status = response.status
        excerpt = response.read(EXCERPT_BYTES, decode_content=False) if status >= 300 else b""
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
        if expired.is_set():
            return Sent(None, f"no complete answer within {deadline:g} s")
        return Sent(None, f"{type(exc).__name__}: {exc}"[:EXCERPT_BYTES])
    finally:
        watchdog.cancel()
        conn.close()
    if 200 <= status < 300:
        return Sent(status, None)
    text = excerpt.decode("utf-8", "replace")
    return Sent(status, f"HTTP {status}: {text}"[:EXCERPT_BYTES])
