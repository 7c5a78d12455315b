"""Training coordinators: their units and who has completed what."""

from flask import Blueprint

from app.access import guard
from app.models import Role
from app.services.reporting import State, state_label

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")
guard(bp, Role.COORDINATOR, Role.ADMIN)


@bp.context_processor
def report_helpers() -> dict[str, object]:
    """Give report templates the states and their names."""
    return {"State": State, "state_label": state_label}


from app.coordinator import certificates, recovery, reminders, roster, views  # noqa: E402, F401
