"""Configuration, error pages, headers and the database schema."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from app import create_app
from app.extensions import db as _db
from app.services import accounts, signing
from config import Config, ConfigError, ProductionConfig, database_url
from tests.fixtures import TestingConfig


def production(
    secret: str | None, base_url: str = "https://training.example.org"
) -> type[ProductionConfig]:
    class Production(ProductionConfig):
        SECRET_KEY = secret or ""
        MODULES_DIR = TestingConfig.MODULES_DIR
        AUDIT_KEY = "a" * 40
        CERTIFICATE_SIGNING_KEY = signing.generate_private_pem().decode()
        PUBLIC_BASE_URL = base_url
        DEVELOPMENT_SECRET_KEY_FILE = TestingConfig.MODULES_DIR / "never-written"

    return Production


def development(instance: Path) -> type[Config]:
    """Return the development configuration as a new process reads it, SECRET_KEY unset."""

    class Development(Config):
        SECRET_KEY = ""
        DEVELOPMENT_SECRET_KEY_FILE = instance / "secret-key"
        MODULES_DIR = TestingConfig.MODULES_DIR
        SQLALCHEMY_DATABASE_URI = TestingConfig.SQLALCHEMY_DATABASE_URI

    return Development


@pytest.mark.parametrize("secret", [None, "", "short-secret"])
def test_production_refuses_missing_or_short_secret_key(secret):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set to at least 32"):
        create_app(production(secret))


@pytest.mark.parametrize("secret", [None, ""])
def test_production_never_writes_a_development_secret_key(secret):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        create_app(production(secret))
    assert not (TestingConfig.MODULES_DIR / "never-written").exists()


def test_development_secret_key_survives_a_restart(app, db, make_user, tmp_path):
    user = make_user()
    first = create_app(development(tmp_path / "instance"))
    with first.app_context():
        token = accounts.set_password_token(user.id, user.session_token)
    restarted = create_app(development(tmp_path / "instance"))
    assert len(restarted.config["SECRET_KEY"]) >= 32
    with restarted.app_context():
        assert accounts.user_for_token(token) is not None
    key_file = tmp_path / "instance" / "secret-key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert restarted.config["SECRET_KEY"] == key_file.read_text().strip()


@pytest.mark.parametrize(
    "base_url",
    ["", "training.example.org", "http://training.example.org", "https://", "https://x.org/?a=1"],
)
def test_production_refuses_a_missing_or_insecure_public_base_url(base_url):
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL must be the site's absolute https"):
        create_app(production("k" * 40, base_url))


def test_production_without_public_base_url_says_so_without_traceback(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PUBLIC_BASE_URL"}
    env |= {
        "APP_CONFIG": "production",
        "SECRET_KEY": "k" * 40,
        "AUDIT_KEY": "a" * 40,
        "CERTIFICATE_SIGNING_KEY": signing.generate_private_pem().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.db'}",
        "MODULES_DIR": str(TestingConfig.MODULES_DIR),
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "run", "--port", "0"],
        cwd=Path(__file__).parents[2], env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("Error: PUBLIC_BASE_URL must be the site's absolute https")
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_production_starts_with_a_long_secret_key_and_no_demo_mode():
    app = create_app(production("k" * 40))
    assert app.config["DEMO_MODE"] is False
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_database_urls_use_psycopg_3():
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url(None) == "sqlite:///blue-beret.db"


def test_demo_seed_does_nothing_outside_demo_mode(app, db):
    from app.models import User

    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert "Demo mode is off" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_demo_seed_is_repeatable(app, db, monkeypatch):
    from app.models import Mission, Role, Unit, User
    from app.services import demo

    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    monkeypatch.setitem(app.config, "DEMO_PASSWORD", "demo password 1")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    second = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == second.exit_code == 0
    assert "peacekeeper" in second.output and "demo password 1" in second.output
    counts = [
        db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Mission, Unit, User)
    ]
    # One account per role and the units' members, created once.
    assert counts == [1, 2, len(demo.ACCOUNTS) + len(demo.MEMBERS)]
    assert {account[2] for account in demo.ACCOUNTS} == set(Role)
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    assert admin.check_password("demo password 1")


def test_not_found_page_is_in_the_apps_look(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Blue Beret" in page and "There is nothing here" in page


def test_unexpected_error_shows_no_stack_trace(app, client):
    def broken():
        raise RuntimeError("secret internal detail")

    app.view_functions.setdefault("broken_for_test", broken)
    if "/broken-for-test" not in [r.rule for r in app.url_map.iter_rules()]:
        app.url_map.add(app.url_rule_class("/broken-for-test", endpoint="broken_for_test"))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.get("/broken-for-test")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "secret internal detail" not in page and "Traceback" not in page


def test_security_headers(client, make_user, login):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    login(make_user())
    assert client.get("/training/").headers["Cache-Control"] == "no-store"


def report_triggers(connection: sa.Connection) -> list[tuple[str, str]]:
    """Return the triggers keeping the report counts (and their functions), as defined."""
    if connection.dialect.name == "postgresql":
        queries = [
            "SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'report_count_%'",
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgname LIKE 'report_count_%'",
        ]
    else:
        queries = [
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'report_count_%'"
        ]
    found = [(row[0], row[1]) for query in queries for row in connection.execute(sa.text(query))]
    return sorted(found)


def test_migrations_build_the_schema_of_the_models(app, tmp_path):
    """A fresh database migrated to head matches the models exactly, triggers included."""
    with app.app_context(), _db.engine.connect() as connection:
        created = report_triggers(connection)
        postgresql = connection.dialect.name == "postgresql"
    # Three triggers on people, three on records (and their two functions on PostgreSQL).
    assert len(created) == (8 if postgresql else 6)
    url = sa.make_url(TestingConfig.SQLALCHEMY_DATABASE_URI)
    if url.get_backend_name() == "postgresql":
        fresh = url.set(database="blue_beret_migration_check")
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {fresh.database}"))
            connection.execute(sa.text(f"CREATE DATABASE {fresh.database}"))
    else:
        fresh = sa.make_url(f"sqlite:///{tmp_path / 'fresh.db'}")

    class Fresh(TestingConfig):
        SQLALCHEMY_DATABASE_URI = fresh.render_as_string(hide_password=False)

    app = create_app(Fresh)
    with app.app_context():
        upgrade(directory=app.root_path + "/migrations")
        with _db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, _db.metadata) == []
            assert report_triggers(connection) == created
        _db.engine.dispose()
    if url.get_backend_name() == "postgresql":
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE {fresh.database}"))
        admin.dispose()


def test_demo_data_shows_every_state_on_the_dashboard(app, db, modules, monkeypatch, client):
    from app.models import Unit, User
    from app.services import demo
    from tests.fixtures import PASSWORD, post

    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    demo.seed(PASSWORD)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 2
    coordinator = db.session.scalar(sa.select(User).where(User.username == "coordinator"))
    post(client, "/login", {"username": coordinator.username, "password": PASSWORD})
    page = client.get("/coordinator/").get_data(as_text=True)
    overdue = client.get("/coordinator/people?status=overdue").get_data(as_text=True)
    expiring = client.get("/coordinator/people?status=expiring").get_data(as_text=True)
    complete = client.get("/coordinator/people?status=complete").get_data(as_text=True)
    assert "Infantry Battalion 1" in page and "Formed Police Unit 2" in page
    assert "Bishnu Tamang" in overdue and "Prakash Shrestha" in overdue
    assert "Sita Rai" in expiring and "Moussa Sow" in expiring
    assert "Kiran Gurung" in complete and "Fatou Ndiaye" in complete
