"""Configuration read from the environment: Config (development), TestConfig, ProductionConfig."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

ROOT = Path(__file__).resolve().parent
MIN_SECRET_KEY_LENGTH = 32
MIN_AUDIT_KEY_LENGTH = 32


class ConfigError(click.ClickException, RuntimeError):
    """The configuration cannot run the application; the message says what to fix.

    A click exception, so that the flask command prints it as one line, no traceback.
    """


def database_url(value: str | None) -> str:
    """Return an SQLAlchemy URL, defaulting to the SQLite file under instance/."""
    if not value:
        return "sqlite:///blue-beret.db"
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value.removeprefix(prefix)
    return value


def engine_options(url: str) -> dict[str, Any]:
    """Return engine options suited to the database in use."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        # Concurrent writers wait for the lock instead of failing at once.
        options["connect_args"] = {"timeout": 30}
    elif url.startswith("postgresql"):
        # Measured by make bench on report queries: JIT compilation costs more than it
        # saves, and the default random_page_cost (meant for spinning disks) steers the
        # planner to scan whole tables instead of following indexes for one unit.
        options["connect_args"] = {"options": "-c jit=off -c random_page_cost=1.1"}
    return options


def create_once(path: Path, make: Callable[[], bytes]) -> bytes:
    """Return a development secret kept in `path` (mode 600), creating it once."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside (mode 600) then linked, so a concurrent start never reads half a key.
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(make())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_bytes()


def development_secret_key(path: Path) -> str:
    """Return the development SECRET_KEY kept in `path`, creating it once."""
    return create_once(path, lambda: secrets.token_hex(32).encode()).decode().strip()


def env_flag(name: str, default: bool) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    # Unset in development, a key kept under instance/ (git-ignored) is used, so sessions
    # and set-password links outlive a restart; production requires SECRET_KEY.
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    DEVELOPMENT_SECRET_KEY_FILE = ROOT / "instance" / "secret-key"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    # Demo accounts exist only for the embedded SQLite run unless asked for.
    DEMO_MODE = env_flag("DEMO_MODE", default=not os.environ.get("DATABASE_URL"))
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD")

    MODULES_DIR = Path(os.environ.get("MODULES_DIR", ROOT / "modules"))
    CERTIFICATES_DIR = Path(os.environ.get("CERTIFICATES_DIR", ROOT / "certificates"))
    # Absolute base of the links in QR codes, e-mails and revoked.json. Required in
    # production; in development the request's host stands in when it is unset.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")

    # Curriculum: training is due this many days before deployment, or this many
    # days after the account was created when no deployment date is known.
    DUE_DAYS_BEFORE_DEPLOYMENT = int(os.environ.get("DUE_DAYS_BEFORE_DEPLOYMENT", "14"))
    DUE_DAYS_WITHOUT_DEPLOYMENT = int(os.environ.get("DUE_DAYS_WITHOUT_DEPLOYMENT", "30"))
    EXPIRING_WITHIN_DAYS = int(os.environ.get("EXPIRING_WITHIN_DAYS", "30"))
    REMINDER_INTERVAL_DAYS = int(os.environ.get("REMINDER_INTERVAL_DAYS", "7"))
    SET_PASSWORD_LINK_DAYS = int(os.environ.get("SET_PASSWORD_LINK_DAYS", "14"))
    # After two failed quiz attempts in a row, the next may start this many minutes later
    # (0: at once), so that the feedback cannot be harvested attempt after attempt.
    QUIZ_COOLDOWN_MINUTES = int(os.environ.get("QUIZ_COOLDOWN_MINUTES", "10"))
    # Results of a facilitated session may be entered up to this many days after it was
    # held: its answer sheets stay open that long, whoever travels back with them.
    CLASSROOM_GRACE_DAYS = int(os.environ.get("CLASSROOM_GRACE_DAYS", "30"))
    # The headquarters' split of valid completions by how they were earned is counted
    # from the completions of sessions, at most once in this many seconds per instance
    # (0: on every page): where most are earned in sessions, that count reads most
    # records, while the rest of the page reads the report counts.
    HEADQUARTERS_DELIVERY_SECONDS = int(os.environ.get("HEADQUARTERS_DELIVERY_SECONDS", "600"))

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = env_flag("MAIL_USE_TLS", default=False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Blue Beret <no-reply@localhost>")

    # Certificates are signed with this Ed25519 key (a PEM file path, or the PEM text);
    # earlier public keys stay published so certificates signed before a rotation verify.
    CERTIFICATE_SIGNING_KEY = os.environ.get("CERTIFICATE_SIGNING_KEY", "")
    CERTIFICATE_PREVIOUS_PUBLIC_KEYS = os.environ.get("CERTIFICATE_PREVIOUS_PUBLIC_KEYS", "")
    # The audit trail's hash chain is keyed with this secret, kept outside the database;
    # earlier keys (comma-separated) keep entries written before a rotation verifiable.
    AUDIT_KEY = os.environ.get("AUDIT_KEY", "")
    AUDIT_PREVIOUS_KEYS = os.environ.get("AUDIT_PREVIOUS_KEYS", "")
    # Background jobs: a Redis queue (RQ, served by `flask worker`) when set, else in-process.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    PRINT_WORKERS = int(os.environ.get("PRINT_WORKERS", "2"))
    # Print jobs one person may have waiting or running at once.
    PRINT_JOBS_PER_PERSON = int(os.environ.get("PRINT_JOBS_PER_PERSON", "2"))
    # Where rendered certificates, training records and print files are kept, for every
    # instance: "database", the absolute path of a directory they all share, or
    # s3://bucket/prefix (an S3-compatible bucket; boto3, credentials and AWS_ENDPOINT_URL
    # from the usual AWS_* variables).
    DOCUMENT_STORE = os.environ.get("DOCUMENT_STORE", "database")
    # Render a certificate, and the training record it changes, in the background as soon
    # as it is issued; off, each is rendered on its first download instead.
    PRERENDER_DOCUMENTS = env_flag("PRERENDER_DOCUMENTS", default=True)

    # Sign-in attempts: per address and per account (Flask-Limiter notation). With several
    # instances, RATELIMIT_STORAGE_URI (e.g. redis://...) makes them share the counts.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per minute")
    # Wrong passwords (or codes) per account before each further attempt must wait: 1 s,
    # then twice as long each time, up to LOGIN_MAX_WAIT_SECONDS. Slowed down, never locked.
    LOGIN_FREE_ATTEMPTS = int(os.environ.get("LOGIN_FREE_ATTEMPTS", "5"))
    LOGIN_MAX_WAIT_SECONDS = int(os.environ.get("LOGIN_MAX_WAIT_SECONDS", "300"))
    # Wrong codes after which a pending sign-in ends and the password is asked again.
    MFA_CODE_ATTEMPTS = int(os.environ.get("MFA_CODE_ATTEMPTS", "5"))
    # Fernet key(s) sealing the second-factor secrets, newest first, comma-separated;
    # derived from SECRET_KEY when empty.
    MFA_ENCRYPTION_KEY = os.environ.get("MFA_ENCRYPTION_KEY", "")
    VERIFY_LIMIT_PER_ADDRESS = os.environ.get("VERIFY_LIMIT_PER_ADDRESS", "60 per minute")
    # PDFs rendered on request (certificates, training records), per signed-in person.
    PDF_LIMIT_PER_USER = os.environ.get("PDF_LIMIT_PER_USER", "10 per minute; 100 per hour")
    # Pages and JSON compressed for slow links (Flask-Compress); PDFs and spreadsheets are
    # compressed already and go as they are. Static files are compressed once (app/assets.py).
    COMPRESS_ALGORITHM = ["br", "gzip"]
    # A response sent in pieces (a print batch) goes as it is made, never gathered first.
    COMPRESS_STREAMS = False
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/json",
                          "image/svg+xml"]  # fmt: skip
    # Second factor: required of administrators and coordinators when on.
    REQUIRE_MFA = env_flag("REQUIRE_MFA", default=False)
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))
    REMEMBER_COOKIE_DURATION = timedelta(hours=SESSION_ABSOLUTE_HOURS)
    # Number of proxies in front of the app whose X-Forwarded-For is trusted.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # The six official languages of the United Nations; English is the source.
    LANGUAGES = ["ar", "en", "es", "fr", "ru", "zh"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    # Commands speak the operator's language, as gettext reads it from the environment.
    CLI_LANGUAGE = next(
        (os.environ[name] for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
         if os.environ.get(name)),
        None,
    )  # fmt: skip

    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None

    @classmethod
    def check(cls) -> None:
        """Refuse a configuration that cannot run safely; give development a lasting key."""
        if not cls.SECRET_KEY:
            cls.SECRET_KEY = development_secret_key(cls.DEVELOPMENT_SECRET_KEY_FILE)
        check_document_store(cls.DOCUMENT_STORE)


class TestConfig(Config):
    TESTING = True
    RATELIMIT_STORAGE_URI = "memory://"
    # Tests sign in hundreds of times a minute; the rate-limit tests lower these.
    LOGIN_LIMIT_PER_ADDRESS = "10000 per minute"
    VERIFY_LIMIT_PER_ADDRESS = "10000 per minute"
    PDF_LIMIT_PER_USER = "10000 per minute"
    AUDIT_KEY = "test-audit-key-" + "a" * 32
    DEMO_MODE = False
    SECRET_KEY = "test-secret-key-" + "x" * 32
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL"))
    PUBLIC_BASE_URL = "https://training.example.org"
    # Every headquarters page counts afresh: tests write and read at once.
    HEADQUARTERS_DELIVERY_SECONDS = 0
    # Tests run in one transaction that a background thread could not see: each document
    # is rendered on its first download, or by the test itself.
    PRERENDER_DOCUMENTS = False
    # Commands answer in English whatever language the machine running the tests uses.
    CLI_LANGUAGE = None


class ProductionConfig(Config):
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    REQUIRE_MFA = env_flag("REQUIRE_MFA", default=True)
    DEMO_MODE = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    @classmethod
    def check(cls) -> None:
        """Refuse to start with demo accounts, or without the keys or the public URL."""
        if len(cls.SECRET_KEY or "") < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"SECRET_KEY must be set to at least {MIN_SECRET_KEY_LENGTH} random characters "
                "in production. Generate one with: "
                "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        if cls.DEMO_MODE:
            raise ConfigError("DEMO_MODE cannot be on in production: it creates known accounts.")
        if len(cls.AUDIT_KEY or "") < MIN_AUDIT_KEY_LENGTH:
            raise ConfigError(
                f"AUDIT_KEY must be set to at least {MIN_AUDIT_KEY_LENGTH} random characters "
                "in production: it keys the audit trail's hash chain, so that whoever controls "
                "the database cannot rewrite the trail. Keep it outside the database (and out "
                "of its backups). Generate one with: "
                "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        key = (cls.CERTIFICATE_SIGNING_KEY or "").strip()
        if not key:
            raise ConfigError(
                "CERTIFICATE_SIGNING_KEY must be set in production: the path of the Ed25519 "
                "private key certificates are signed with (or its PEM text). Create one with: "
                "flask --app app certificates keygen --output /secure/path/signing-key.pem"
            )
        if not key.startswith("-----BEGIN") and not Path(key).expanduser().is_file():
            raise ConfigError(
                f"CERTIFICATE_SIGNING_KEY names {key}, which is not a readable file. "
                "Set it to the path of the signing key's PEM file, or to the PEM text itself."
            )
        check_public_base_url(cls.PUBLIC_BASE_URL)
        check_document_store(cls.DOCUMENT_STORE)


def check_document_store(value: str) -> None:
    """Refuse a DOCUMENT_STORE that names no store the application can use."""
    value = (value or "").strip()
    if value in {"", "database"}:
        return
    if value.startswith("s3://"):
        if not urlsplit(value).netloc:
            raise ConfigError(
                f"DOCUMENT_STORE is {value}: name the bucket, for example s3://blue-beret/documents."
            )
        try:
            import boto3  # noqa: F401
        except ImportError:
            raise ConfigError(
                "DOCUMENT_STORE names an S3 bucket, which needs boto3: pip install '.[s3]'."
            ) from None
        return
    path = Path(value).expanduser()
    if not path.is_absolute() or not path.is_dir():
        raise ConfigError(
            f"DOCUMENT_STORE is {value}, which is not an existing directory given by its "
            "absolute path. Create the directory (shared by every instance), or set "
            "DOCUMENT_STORE=database, or s3://bucket/prefix."
        )


def check_public_base_url(value: str) -> None:
    """Refuse a PUBLIC_BASE_URL that is not an absolute https address."""
    parts = urlsplit((value or "").strip())
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        shown = f'"{value}"' if value else "not set"
        raise ConfigError(
            f"PUBLIC_BASE_URL must be the site's absolute https address in production, "
            f"for example https://training.example.org (it is {shown}). The links in "
            "certificate QR codes, e-mails and revoked.json are built from it, never from "
            "the Host header a request claims."
        )


def config_from_environment() -> type[Config]:
    """Choose the configuration named by APP_CONFIG (production or development)."""
    name = os.environ.get("APP_CONFIG", "development").strip().lower()
    if name == "production":
        return ProductionConfig
    if name in {"development", ""}:
        return Config
    raise ConfigError(f'APP_CONFIG must be "production" or "development", not "{name}".')
