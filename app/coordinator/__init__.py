"""Training coordinators: their units and who has completed what."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.access import guard
from app.models import Role
from app.services.reporting import State

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")
guard(bp, Role.COORDINATOR, Role.ADMIN)

STATE_LABELS = {
    State.COMPLETE: _l("Complete"),
    State.EXPIRING: _l("Expiring soon"),
    State.IN_PROGRESS: _l("In progress"),
    State.OVERDUE: _l("Overdue"),
}


@bp.context_processor
def report_helpers() -> dict[str, object]:
    """Give report templates the states and their names."""
    return {"State": State, "state_label": lambda state: str(STATE_LABELS[State(state)])}


from app.coordinator import certificates, reminders, roster, views  # noqa: E402, F401
