"""What every test sees. Nothing here starts or names a server: `pytest tests/unit` needs none.

The services (Postgres, Redis, the broker) and the environment that points at them are
set up by tests/integration/conftest.py, which pytest imports only when it collects an
integration test. Unit tests that need settings build them with monkeypatch.
"""

from __future__ import annotations

import os

import pytest

# Cheap password hashes (log2 of scrypt's n; production's is 14): every test user costs a
# hash to register and a verify to log in. tests/unit/test_passwords.py checks the default.
os.environ["PASSWORD_COST"] = "4"

# The long suites: `make test` leaves them out (it stays under two minutes), `make
# test-slow` runs only them, and .ci/run runs both, so every test runs on every CI
# submission. Seconds each took in a whole run on 2 cores, 2026-12-06.
SLOW = {
    "tests/integration/test_schemathesis.py": "fuzzing every operation (60 s)",
    "tests/integration/test_faults_under_load.py": "kills under load (51 s)",
    "tests/integration/test_faults.py": "Redis restarts, broker splits (34 s)",
    "tests/integration/test_webhooks.py": "retries and a killed sender (27 s)",
    "tests/integration/test_webhook_fairness.py": "hanging receivers, paced (25 s)",
    "tests/integration/test_authorization_matrix.py": "every operation by six callers (17 s)",
    "tests/integration/test_redis_faults.py": "Redis and broker restarts (9 s)",
    "tests/integration/test_crash_recovery.py": "a worker killed mid-batch (8 s)",
    "tests/integration/test_failover.py": "a standby lost, a primary failed over (75 s)",
    "tests/integration/test_broker_failover.py": "a RabbitMQ cluster, a node killed (57 s)",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.split("::", 1)[0] in SLOW:
            item.add_marker(pytest.mark.slow)
