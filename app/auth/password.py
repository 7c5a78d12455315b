"""A person's own account: changing the password, confirmed by the current one."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import bp, throttle
from app.auth.forms import ChangePasswordForm
from app.auth.sessions import mfa_required
from app.auth.signin import code_key, sign_in_key, start_session, wait_message
from app.extensions import db
from app.models import AuditAction, User
from app.services import accounts, audit, mfa, passwords

# Which field a refused confirmation names, the message, and the status to answer with.
Refused = tuple[str, str, int]


def reauthenticate(user: User, password: str, code: str | None = None) -> Refused | None:
    """Check the password (and code) confirming a change; (field, message, status) if refused.

    The same counts and waits as at sign-in: an open session is no way around them.
    """
    keys = [sign_in_key(user, user.username)] + ([code_key(user)] if code is not None else [])
    wait = max(throttle.wait_seconds(key) for key in keys)
    if wait:
        return "current", wait_message(wait), 429
    if not passwords.verify(user.password_hash, password):
        throttle.record_failure(keys[0])
        audit.record(AuditAction.REAUTHENTICATION_FAILED, user.username, {"reason": "bad password"})
        db.session.commit()
        return "current", _("Your current password is not right."), 422
    if code is not None and not mfa.accept(user, code):
        throttle.record_failure(code_key(user))
        audit.record(AuditAction.REAUTHENTICATION_FAILED, user.username, {"reason": "bad code"})
        db.session.commit()
        return "current_code", _("The code from your current authenticator app is not right."), 422
    for key in keys:
        throttle.forget(key)
    return None


def refuse(form: Any, refused: Refused) -> int:
    """Show why a confirmation was refused on its field; return the status to answer with."""
    field, message, status = refused
    form[field].errors = [message]
    return status


def continue_session(user: User) -> None:
    """Keep this browser signed in after every other session was ended."""
    start_session(user, bool(session.get("remember")), session.get("signed_in_at"))


@bp.route("/account", methods=["GET", "POST"])
def account() -> Response | str | tuple[str, int]:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        refused = reauthenticate(user, form.current.data)
        if refused:
            status = refuse(form, refused)
        else:
            accounts.set_password(user, form.password.data)
            audit.record(AuditAction.PASSWORD_CHANGED, user.username)
            db.session.commit()
            # Every other session ended with the old token; this one continues on the new.
            continue_session(user)
            flash(_("Your password is changed. You were signed out everywhere else."), "info")
            return redirect(url_for("auth.account"))
    elif form.errors:
        status = 422
    page = render_template("auth/account.html", form=form, mfa_required=mfa_required(current_user))
    return page, status
