"""What every test sees. Nothing here starts or names a server: `pytest tests/unit` needs none.

The services (Postgres, Redis, the broker) and the environment that points at them are
set up by tests/integration/conftest.py, which pytest imports only when it collects an
integration test. Unit tests that need settings build them with monkeypatch.
"""

from __future__ import annotations

import os

# Cheap password hashes (log2 of scrypt's n; production's is 14): every test user costs a
# hash to register and a verify to log in. tests/unit/test_passwords.py checks the default.
os.environ["PASSWORD_COST"] = "4"
