"""The environment every test sees, fixed before anything imports celeryconfig (which reads it).

Nothing here connects to a service: unit tests need none. The integration conftest
creates the database named here and starts the worker.
"""

from __future__ import annotations

import os
import tempfile

from tests import services

os.environ.update(
    DATABASE_URL=services.database_url(),
    REDIS_URL=services.redis_url_for_tests(),
    BOOKINGS_ENV="production",
    SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
    BOOKINGS_SHARDS="4",
    RATE_LIMITS="off",
    LOG_LEVEL="INFO",
    # Shared by this process's API and the worker it starts, as on one deployed host.
    PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="bookings-metrics-"),
)
if os.environ.get("TEST_BROKER_URL"):
    os.environ["CELERY_BROKER_URL"] = os.environ["TEST_BROKER_URL"]
else:
    os.environ.pop("CELERY_BROKER_URL", None)
