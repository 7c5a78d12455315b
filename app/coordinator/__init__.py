"""Training coordinators: their units and who has completed what."""

from flask import Blueprint

from app.access import guard
from app.models import Role

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")
guard(bp, Role.COORDINATOR, Role.ADMIN)

from app.coordinator import roster, views  # noqa: E402, F401
