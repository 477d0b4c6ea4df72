"""Settings are read in one place and refuse to start with a reason."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from models.settings import SettingsError, development_secret, load_settings

BASE = {
    "DATABASE_URL": "postgresql+psycopg://u@h/db",
    "REDIS_URL": "redis://h:6379/0",
    "PUBLIC_URL": "https://rooms.example.com",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name in (
        "SECRET_KEY",
        "BOOKINGS_ENV",
        "CELERY_BROKER_URL",
        "BOOKINGS_SHARDS",
        "RATE_LIMITS",
        "AUDIT_RETENTION_DAYS",
        "PASSWORD_COST",
        "SWEEP_SECONDS",
        "HOUSEKEEPING_SECONDS",
        "SWEEP_STALE_SECONDS",
        "RATE_LIMIT_AUTH",
        "RATE_LIMIT_WRITE",
        "RATE_LIMIT_READ",
        "RATE_LIMIT_LOGIN_FAILURES",
        "RATE_LIMIT_EMAIL_FAILURES",
        "PUBLIC_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_production_refuses_a_missing_or_short_secret(env) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match="SECRET_KEY is missing"):
        load_settings()
    env.setenv("SECRET_KEY", "short")
    with pytest.raises(SettingsError, match="only 5 characters"):
        load_settings()
    env.setenv("SECRET_KEY", "x" * 32)
    assert load_settings().secret_key == "x" * 32


def test_development_signs_with_a_random_secret_kept_in_its_data_folder(
    env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    env.setenv("BOOKINGS_ENV", "development")
    env.chdir(tmp_path)
    settings = load_settings()
    kept = tmp_path / ".bookings" / "secret_key"

    assert settings.secret_key == kept.read_text().strip()
    assert len(settings.secret_key) >= 32
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert load_settings().secret_key == settings.secret_key  # the next start finds it
    assert development_secret(tmp_path / "another") != settings.secret_key
    assert not settings.is_production
    assert list((tmp_path / ".bookings").iterdir()) == [kept]  # no draft left behind


def test_defaults_and_broker_fallback(env) -> None:  # type: ignore[no-untyped-def]
    env.setenv("SECRET_KEY", "x" * 32)
    settings = load_settings()
    assert settings.broker_url == BASE["REDIS_URL"]
    assert (settings.shards, settings.audit_retention_days, settings.rate_limits) == (8, 90, True)
    env.setenv("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    env.setenv("RATE_LIMITS", "off")
    settings = load_settings()
    assert settings.broker_url.startswith("amqp://")
    assert settings.rate_limits is False


def test_costs_and_intervals_default_to_production_and_come_from_the_environment(env) -> None:  # type: ignore[no-untyped-def]
    env.setenv("SECRET_KEY", "x" * 32)
    settings = load_settings()
    assert settings.password_cost == 14  # scrypt n = 2**14
    assert (settings.sweep_seconds, settings.housekeeping_seconds) == (5, 30)
    assert settings.sweep_stale_seconds == 5
    assert settings.rate_limit_auth == "300 per minute"
    assert settings.rate_limit_login_failures == "10 per 15 minutes"
    for name, value in {
        "PASSWORD_COST": "4",
        "SWEEP_SECONDS": "1",
        "HOUSEKEEPING_SECONDS": "2",
        "SWEEP_STALE_SECONDS": "3",
        "RATE_LIMIT_AUTH": "5",
        "RATE_LIMIT_LOGIN_FAILURES": "3 per hour",
    }.items():
        env.setenv(name, value)
    settings = load_settings()
    assert settings.password_cost == 4
    assert (settings.sweep_seconds, settings.housekeeping_seconds) == (1, 2)
    assert settings.sweep_stale_seconds == 3
    assert (settings.rate_limit_auth, settings.rate_limit_login_failures) == (
        "5 per minute",
        "3 per hour",
    )


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("BOOKINGS_SHARDS", "zero", "whole number"),
        ("BOOKINGS_SHARDS", "0", "at least 1"),
        ("RATE_LIMITS", "maybe", "on or off"),
        ("BOOKINGS_ENV", "staging", "production or development"),
        ("DATABASE_URL", "", "DATABASE_URL is not set"),
        ("PASSWORD_COST", "3", "at least 4"),
        ("RATE_LIMIT_WRITE", "lots", "a limit such as"),
    ],
)
def test_bad_values_are_refused_by_name(env, name: str, value: str, words: str) -> None:  # type: ignore[no-untyped-def]
    env.setenv("SECRET_KEY", "x" * 32)
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=words):
        load_settings()


def test_production_roles_that_sign_nothing_need_no_secret_and_write_none(
    env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    env.chdir(tmp_path)
    settings = load_settings(require_secret=False)
    assert settings.secret_key == ""
    assert not (tmp_path / ".bookings").exists()


def test_production_refuses_a_missing_or_unsafe_public_url_naming_every_problem_at_once(
    env,
) -> None:  # type: ignore[no-untyped-def]
    env.delenv("PUBLIC_URL")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "SECRET_KEY is missing" in str(refused.value)
    assert "PUBLIC_URL is missing" in str(refused.value)
    env.setenv("SECRET_KEY", "x" * 32)
    for bad in (
        "rooms.example.com",
        "ftp://rooms.example.com",
        "http://rooms.example.com",
        "https://rooms.example.com/?a=1",
        "https://u:p@rooms.example.com",
    ):
        env.setenv("PUBLIC_URL", bad)
        with pytest.raises(SettingsError, match="PUBLIC_URL"):
            load_settings()
    env.setenv("PUBLIC_URL", "https://rooms.example.com/booking/")
    assert load_settings().public_url == "https://rooms.example.com/booking"
    env.delenv("PUBLIC_URL")
    assert load_settings(require_secret=False).public_url is None  # a worker may go without


def test_development_uses_the_requests_host_without_a_public_url(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.setenv("BOOKINGS_ENV", "development")
    env.chdir(tmp_path)
    env.delenv("PUBLIC_URL")
    assert load_settings().public_url is None
    env.setenv("PUBLIC_URL", "http://127.0.0.1:8000")
    assert load_settings().public_url == "http://127.0.0.1:8000"
    env.setenv("PUBLIC_URL", "http://[::1]:8000")  # as `bookings up --host ::1` sets it
    assert load_settings().public_url == "http://[::1]:8000"
