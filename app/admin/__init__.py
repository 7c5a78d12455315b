"""Administration: modules and the organisation."""

from flask import Blueprint

from app.access import guard
from app.models import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")
guard(bp, Role.ADMIN)

from app.admin import certificates, views  # noqa: E402, F401
