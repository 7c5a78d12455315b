"""Commanders: whether their units are trained."""

from flask import Blueprint

from app.access import guard
from app.models import Role

bp = Blueprint("commander", __name__, url_prefix="/commander")
guard(bp, Role.COMMANDER, Role.ADMIN)

from app.commander import printing, views  # noqa: E402, F401
