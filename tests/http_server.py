"""`bookings api` as deployed (granian), on a spare port, for tests that need real HTTP."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator, Mapping
from contextlib import suppress
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from cli.embedded import free_port
from tests.helpers import wait_until
from tests.roles import start_role, stop_role


class Server:
    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Message, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            chunked = body is not None and not isinstance(body, bytes)
            # The server may answer (a 413) and close before the body is all sent.
            with suppress(BrokenPipeError, ConnectionResetError):
                conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
            response = conn.getresponse()
            raw = response.read()
            document = json.loads(raw) if raw else None
            return response.status, response.headers, document
        finally:
            conn.close()


def serve(
    tmp_path_factory: pytest.TempPathFactory,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[Server]:
    """One API process with 4 threads (in `env`, else the suite's environment), on `port`
    (else a free one), up until the generator is closed."""
    port = port or free_port()
    log = tmp_path_factory.mktemp("api") / "api.log"
    argv = ["api", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--threads", "4"]
    proc = start_role(argv, log, env)
    running = Server(port, log)

    def healthy() -> bool:
        assert proc.poll() is None, f"the API exited:\n{log.read_text()[-3000:]}"
        try:
            return running.request("GET", "/healthz")[0] == 200
        except OSError:
            return False

    try:
        wait_until(healthy, 60, lambda: f"the API to listen:\n{log.read_text()[-3000:]}")
        yield running
    finally:
        stop_role(proc)
