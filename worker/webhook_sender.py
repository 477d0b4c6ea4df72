"""One webhook request: signed (Standard Webhooks), to the address that was checked, with
a 10 s timeout, no redirects, and only a short excerpt of the answer kept."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import urllib3
from standardwebhooks import Webhook as Signer

from models.domain.webhook_urls import Target

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


def send(target: Target, headers: dict[str, str], body: str) -> Sent:
    """POST the body to the checked address; the Host header and TLS name stay the URL's."""
    timeout = urllib3.Timeout(total=TIMEOUT_SECONDS)
    host = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            target.address, target.port, timeout=timeout, retries=False
        )
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body.encode(),
            headers={**headers, "host": host},
            redirect=False,
            retries=False,
            preload_content=False,
        )
        try:
            excerpt = response.read(EXCERPT_BYTES, decode_content=False)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        return Sent(None, f"{type(exc).__name__}: {exc}"[:EXCERPT_BYTES])
    finally:
        pool.close()
    status = response.status
    if 200 <= status < 300:
        return Sent(status, None)
    text = excerpt.decode("utf-8", "replace")
    return Sent(status, f"HTTP {status}: {text}"[:EXCERPT_BYTES])
