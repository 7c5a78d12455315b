"""Flask extensions, created unbound and initialised by create_app."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from flask import g
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.orm import DeclarativeBase
from werkzeug.wrappers import Response

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# Models subclass `Model`: Flask-SQLAlchemy's db.Model at run time (table names from
# class names), the typed declarative base for the type checker.
if TYPE_CHECKING:

    class Model(Base):
        __abstract__ = True

else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Storage from RATELIMIT_STORAGE_URI (Redis, shared by every instance), memory otherwise.
limiter = Limiter(get_remote_address)


class PageCompress(Compress):
    """Flask-Compress, leaving alone a response whose view asked for it to be sent as is.

    A page that shows a secret kept across requests (a second factor's key being set up)
    next to text from its address could, compressed, let an eavesdropper guess the
    secret from the sizes of many responses (BREACH): such a page calls `uncompressed()`.
    """

    def after_request(self, response: Response | None) -> Any:
        if response is not None and g.get("uncompressed"):
            return response
        return super().after_request(response)  # type: ignore[arg-type]


def uncompressed() -> None:
    """Send the current response as is, never compressed."""
    g.uncompressed = True


compress = PageCompress()


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    """Make SQLite enforce foreign keys, as PostgreSQL does."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
