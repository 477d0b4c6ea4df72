"""The webhook circuit breaker's cool-down: none below the threshold, then doubling."""

from __future__ import annotations

from datetime import timedelta

from models.webhooks.service import BREAKER_FAILURES, BREAKER_MAX, breaker_open


def test_the_breaker_stays_open_longer_with_each_failure() -> None:
    assert breaker_open(0) is None
    assert breaker_open(BREAKER_FAILURES - 1) is None
    first = breaker_open(BREAKER_FAILURES)
    assert first == timedelta(seconds=60)
    assert breaker_open(BREAKER_FAILURES + 1) == 2 * first
    assert breaker_open(BREAKER_FAILURES + 40) == BREAKER_MAX == timedelta(hours=1)
