"""Mission and UN headquarters: aggregate training figures, never a person."""

from flask import Blueprint

from app.access import guard
from app.models import DeliveryMode, Role
from app.services.reporting import State, state_label

bp = Blueprint("headquarters", __name__, url_prefix="/headquarters")
guard(bp, Role.HEADQUARTERS, Role.ADMIN)


@bp.context_processor
def report_helpers() -> dict[str, object]:
    """Give the templates the states and their names, and the delivery modes."""
    return {"State": State, "state_label": state_label, "DeliveryMode": DeliveryMode}


from app.headquarters import views  # noqa: E402, F401
