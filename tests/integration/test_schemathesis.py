"""schemathesis over every operation of the live OpenAPI document, through a real server
(granian), the suite's database and its worker: generated, boundary and stateful cases,
every check but one.

Two are left out. use_after_free says "after a DELETE, the resource answers 404": the
contract's DELETE of a room retires it and keeps its history (its calendar, its
bookings) readable. positive_data_acceptance says "a request the schema allows must not
be refused". The contract has rules between fields that an OpenAPI 3.0 schema cannot say
(an end after its start, a start in the future, one of count or until, an IANA zone
name, a batch item that is a booking), so that check flags each of them as a refusal of
valid data. The answers it would flag are 422s in the error shape, which every other
check still looks at (no 5xx, documented status codes, response schemas, content types,
auth that is not ignored, ...).

Examples per operation are bounded (SCHEMATHESIS_EXAMPLES, default 25) to keep the run
to a minute; `SCHEMATHESIS_EXAMPLES=500 pytest tests/integration/test_schemathesis.py`
goes deeper.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers import Api, wait_decided
from tests.http_server import Server

EXAMPLES = os.environ.get("SCHEMATHESIS_EXAMPLES", "25")
# Ending the caller's own token (logout) or password mid-run would turn every later
# case into a 401: those two run apart, each with a token of its own.
ENDS_THE_TOKEN = ["/v1/auth/logout", "/v1/users/me/password"]


def schemathesis(server: Server, token: str, log: Path, *selection: str) -> None:
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert executable, "schemathesis is a dev dependency: make install"
    argv = [
        executable,
        "run",
        f"http://127.0.0.1:{server.port}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance,use_after_free",
        "--max-examples",
        EXAMPLES,
        "--generation-deterministic",
        "--no-color",
        "--header",
        f"Authorization: Bearer {token}",
        *selection,
    ]
    # In the test's own folder: schemathesis keeps a cache of what it found where it runs.
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=600, check=False, cwd=log.parent
    )
    log.write_text(done.stdout + done.stderr)
    summary = "\n".join(done.stdout.splitlines()[-40:])
    print(summary)  # the figures (cases generated, passed) for the run's log
    assert done.returncode == 0, f"schemathesis found failures:\n{done.stdout[-12000:]}"


@pytest.mark.parametrize("role", ["user", "admin"])
def test_every_operation_holds_under_generated_input(
    server: Server,
    worker: object,
    api: Api,
    admin: dict[str, str],
    sessions: sessionmaker[Session],
    tmp_path: Path,
    role: str,
) -> None:
    caller = admin if role == "admin" else api.register_and_login("fuzz@example.com", "Fuzz")
    if role == "admin":  # rooms to book in, so that writes get as far as the worker
        for name in ("Fuzz A", "Fuzz B"):
            assert api.create_room(admin, name=name, capacity=10).status_code == 201
    token = caller["Authorization"].split()[1]
    exclusions = [arg for path in ENDS_THE_TOKEN for arg in ("--exclude-path", path)]

    schemathesis(server, token, tmp_path / "schemathesis.log", *exclusions)

    wait_decided(sessions)


@pytest.mark.parametrize("path", ENDS_THE_TOKEN)
def test_the_operations_that_end_a_token_hold_too(
    server: Server, api: Api, sessions: sessionmaker[Session], tmp_path: Path, path: str
) -> None:
    caller = api.register_and_login("ending@example.com", "Ending")
    token = caller["Authorization"].split()[1]

    schemathesis(server, token, tmp_path / "schemathesis.log", "--include-path", path)
