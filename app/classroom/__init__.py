"""Facilitated sessions at training centres: scheduling, the printed pack, results."""

from flask import Blueprint

from app.access import guard
from app.models import Role

bp = Blueprint("classroom", __name__, url_prefix="/sessions")
guard(bp, Role.COORDINATOR, Role.FACILITATOR, Role.ADMIN)


from app.classroom import pack, results, views  # noqa: E402, F401
