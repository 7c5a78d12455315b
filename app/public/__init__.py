"""Pages for anyone, signed in or not: verification, where to report, the language."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from app.public import language, offline, views  # noqa: E402, F401
