"""The docs say what the code does: the contract's copy, and every documented default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
SHARED_CONTRACT = ROOT.parent / "shared" / "API.md"

# Environment variable -> the Settings attribute it sets.
SETTINGS = {
    "BOOKINGS_SHARDS": "shards",
    "AUDIT_RETENTION_DAYS": "audit_retention_days",
    "REQUEST_RETENTION_DAYS": "request_retention_days",
    "TOKEN_TTL_SECONDS": "token_ttl_seconds",
    "PASSWORD_COST": "password_cost",
    "SWEEP_SECONDS": "sweep_seconds",
    "HOUSEKEEPING_SECONDS": "housekeeping_seconds",
    "SWEEP_STALE_SECONDS": "sweep_stale_seconds",
    "API_THREADS": "api_threads",
    "LOG_LEVEL": "log_level",
    "RATE_LIMIT_AUTH": "rate_limit_auth",
    "RATE_LIMIT_LOGIN_FAILURES": "rate_limit_login_failures",
    "RATE_LIMIT_EMAIL_FAILURES": "rate_limit_email_failures",
    "RATE_LIMIT_WRITE": "rate_limit_write",
    "RATE_LIMIT_READ": "rate_limit_read",
    "WEBHOOK_MAX_PER_USER": "webhook_max_per_user",
}


def test_the_contract_copy_is_the_contract() -> None:
    if not SHARED_CONTRACT.is_file():
        pytest.skip("no ../shared/API.md beside this clone")
    copy = (ROOT / "docs" / "api.md").read_text()
    assert copy == SHARED_CONTRACT.read_text(), "cp ../shared/API.md docs/api.md"


def documented_defaults(path: Path) -> dict[str, str]:
    """`| `NAME`[, `NAME`] | meaning | default |` rows: name -> its default cell."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z_]+)`", cells[0])
        defaults = cells[2].split(",") if len(names) > 1 else [cells[2]]
        for name, default in zip(names, defaults, strict=False):
            found[name] = default.strip()
    return found


@pytest.mark.parametrize("doc", ["README.md", "docs/operations.md"])
def test_every_documented_default_is_the_settings_default(
    doc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("REDIS_URL", "redis://h:6379/0")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("PUBLIC_URL", "https://rooms.example.com")
    monkeypatch.setenv("BOOKINGS_ENV", "production")
    settings = load_settings()
    documented = documented_defaults(ROOT / doc)
    checked = 0
    for name, attribute in SETTINGS.items():
        if name not in documented:
            continue
        value = getattr(settings, attribute)
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        cell = documented[name].replace("`", "")
        assert re.search(rf"(?<![\w.]){re.escape(shown)}(?![\w.])", cell), (doc, name, cell, value)
        checked += 1
    assert checked >= 5, f"{doc}: the configuration table was not found"
