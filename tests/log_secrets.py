"""Secrets that must never reach a log line, and the scan that looks for them.

The integration suite captures every log record of its own process and reads every log
file of the roles it starts (tests/roles.py); at the end, the scan must find nothing.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

# What the tests use as passwords, what a hash and a token look like, the signing key.
_PATTERNS = [
    r"password-\d{3}",
    r"admin-pass-\d",
    r"pw-12345",
    r"wrong-(?:password|guess)",
    r"scrypt\$\d+\$",  # a stored password hash
    r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}",  # a JWT (header.claims)
    r"Bearer\s+[A-Za-z0-9_.-]{20,}",
    r"cal_[A-Za-z0-9_-]{43}",  # a calendar feed token (models/domain/feed_tokens.py)
    r"bk_[A-Za-z0-9_-]{43}",  # an API token (the same module)
    r"dsp_[A-Za-z0-9_-]{43}",  # a door display token (the same module)
    r"whsec_[A-Za-z0-9+/=]{16,}",  # a webhook signing secret (models/webhooks/service.py)
]


def secret_pattern() -> re.Pattern[str]:
    patterns = list(_PATTERNS)
    if os.environ.get("SECRET_KEY"):
        patterns.append(re.escape(os.environ["SECRET_KEY"]))
    return re.compile("|".join(patterns))


def leaks(lines: list[str]) -> list[str]:
    pattern = secret_pattern()
    return [line[:300] for line in lines if pattern.search(line)]


class Captured(logging.Handler):
    """Every record of this process, formatted (traceback included)."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.lines: list[str] = []
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is not ours to judge
            return
        with self._guard:
            self.lines.append(text)


def file_lines(paths: list[Path]) -> list[str]:
    lines: list[str] = []
    for path in paths:
        if path.is_file():
            lines += path.read_text(errors="replace").splitlines()
    return lines
