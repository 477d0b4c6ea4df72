"""`.bookings/env`: where `bookings up`'s embedded servers are, for every other command.

`bookings up` writes it (sourceable: `. .bookings/env`) once its servers run and removes
it when it stops. Any `bookings` command run in the project folder with no DATABASE_URL
or REDIS_URL of its own reads the missing ones from it, so `bookings import …` beside a
running `make run` just works.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from models.settings import STATE_DIR

ENV_FILE = STATE_DIR / "env"
# Where the servers are, nothing more: a file left behind must not switch a production
# shell to development.
NAMES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")


def write_state_env(path: Path = ENV_FILE) -> Path:
    lines = [
        "# written by `bookings up` while it runs; source it: . .bookings/env",
        f"# pid {os.getpid()}",
    ]
    lines += [
        f"export {name}={shlex.quote(os.environ[name])}" for name in NAMES if os.environ.get(name)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_suffix(".draft")
    draft.write_text("\n".join(lines) + "\n")
    draft.replace(path)
    return path


def load_state_env(path: Path = ENV_FILE) -> bool:
    """Fill in the servers' URLs from `path` when the environment names none of its own."""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return False
    if not path.is_file():
        return False
    text = path.read_text()
    if not _writer_alive(text):
        return False  # left behind by a `bookings up` that was killed: its servers are gone
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            if name in NAMES:
                os.environ.setdefault(name, value)
    return True


def _writer_alive(text: str) -> bool:
    for line in text.splitlines():
        if line.startswith("# pid "):
            try:
                os.kill(int(line.split()[2]), 0)
            except (ProcessLookupError, ValueError, IndexError):
                return False
            except PermissionError:
                return True  # alive, another user's
            return True
    return False


def remove_state_env(path: Path = ENV_FILE) -> None:
    """Remove the file, only if this process wrote it: a second `bookings up` (refused)
    or one that lost the file to another must not take the running one's away."""
    try:
        text = path.read_text()
    except OSError:
        return
    if f"# pid {os.getpid()}\n" in text:
        path.unlink(missing_ok=True)


def state_env_urls(path: Path = ENV_FILE) -> dict[str, str]:
    """The servers a running `bookings up` wrote (empty when none runs)."""
    try:
        text = path.read_text()
    except OSError:
        return {}
    if not _writer_alive(text):
        return {}
    found = {}
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            found[name] = value
    return found
