"""Sessions: the list, scheduling, a session's page, cancelling."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.classroom import bp
from app.extensions import db
from app.services import classroom


@bp.route("/")
def index() -> str:
    """List the sessions the person may see, latest first."""
    sessions = db.session.scalars(classroom.sessions_in_scope(current_user).limit(200)).all()
    return render_template("classroom/index.html", sessions=sessions)
