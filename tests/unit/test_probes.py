"""api/probes.Check: one caller waits for a run, the others answer at once; a failure is
answered again without asking for a moment; a run that hangs is cut at the deadline."""

from __future__ import annotations

import threading
import time

from api.probes import RECHECK, Check, Known
from tests.helpers import wait_until


def test_a_hanging_check_is_down_at_its_deadline_and_only_one_caller_waits() -> None:
    release = threading.Event()
    calls: list[int] = []

    def hang() -> None:
        calls.append(1)
        release.wait(30)

    check = Check("hang", hang, deadline=3.0)
    first: list[str] = []
    waiter = threading.Thread(target=lambda: first.append(check.status()))
    waiter.start()
    wait_until(lambda: check._waiting, 5, "the first caller to wait for the run")
    # While it waits, the others answer at once with the outcome a probe before the hang
    # left (with none known yet, they would wait too).
    check.outcome = Known("ok", time.monotonic())
    began = time.monotonic()
    answers = [check.status() for _ in range(10)]
    assert time.monotonic() - began < 1.0  # not 10 deadlines, nor one
    assert answers == ["ok"] * 10
    waiter.join(10)
    assert first == ["down: no answer within 3 s"]
    # A failure is answered again for RECHECK without a new run.
    began = time.monotonic()
    assert check.status() == "down: no answer within 3 s"
    assert time.monotonic() - began < RECHECK
    assert len(calls) == 1
    release.set()


def test_a_check_that_answers_is_asked_every_time() -> None:
    calls: list[int] = []
    check = Check("quick", lambda: calls.append(1))
    assert [check.status() for _ in range(3)] == ["ok"] * 3
    assert len(calls) == 3
