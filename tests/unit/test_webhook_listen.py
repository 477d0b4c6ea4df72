"""`bookings webhook-listen`, as run: it prints a verified event once (a retry of the same
webhook-id is not printed again), refuses a forged one, and stops after --count."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime

from standardwebhooks import Webhook

from tests.helpers import wait_until

SECRET = "whsec_" + base64.b64encode(b"a test secret of thirty-two bytes").decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(port: int, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 (http, loopback)
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def signed(msg_id: str, body: bytes) -> dict[str, str]:
    now = datetime.now(UTC)
    signature = Webhook(SECRET).sign(msg_id, now, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }


def listening(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def test_it_prints_verified_events_once_and_refuses_forged_ones() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "webhook-listen", "--port", str(port), "--count", "2"],
        env={"WEBHOOK_SECRET": SECRET, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: listening(port), 20, "the listener to listen")
        first = json.dumps({"type": "webhook.ping", "data": {"n": 1}}).encode()
        second = json.dumps({"type": "task.finished", "data": {"n": 2}}).encode()

        forged = {**signed("msg_1", first), "webhook-signature": "v1,AAAA"}
        assert post(port, first, forged) == 401
        assert post(port, first, signed("msg_1", first)) == 204
        assert post(port, first, signed("msg_1", first)) == 204  # a retry: not printed again
        assert post(port, second, signed("msg_2", second)) == 204
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert [json.loads(line)["data"]["n"] for line in out.splitlines()] == [1, 2]
    assert "refused a delivery" in err and f"listening on http://127.0.0.1:{port}/" in err
