"""Reminders sent from the coordinator's dashboard."""

from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.coordinator import bp
from app.extensions import db
from app.services import mail, organisation, reminders


@bp.route("/reminders", methods=["POST"])
def send_reminders() -> Response:
    """E-mail the people of the coordinator's units whose training is overdue or expiring."""
    if not mail.is_configured():
        flash(
            _(
                "E-mail is not set up on this platform, so no reminder was sent. "
                "Ask an administrator to configure the mail server (MAIL_SERVER)."
            ),
            "error",
        )
        return redirect(url_for("coordinator.index"))
    units = organisation.units_in_scope(current_user)
    dues = reminders.due([unit.id for unit in units], current_app.config["EXPIRING_WITHIN_DAYS"])
    outcome = reminders.send(dues, dry_run=False)
    db.session.commit()
    flash(reminders.summary(outcome), "error" if outcome.failures else "info")
    return redirect(url_for("coordinator.index"))
