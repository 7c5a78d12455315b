"""Turning on, replacing and turning off the second factor of one's own account."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import CodeForm, RemoveFactorForm, ReplaceFactorForm
from app.auth.password import continue_session, reauthenticate, refuse
from app.auth.sessions import mfa_required
from app.extensions import db, uncompressed
from app.models import AuditAction
from app.services import audit, mfa


@bp.route("/account/second-factor", methods=["GET", "POST"])
def enrol_second_factor() -> Response | str | tuple[str, int]:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    user = current_user._get_current_object()
    replacing = bool(user.totp_secret)
    # Sealed: the session is a cookie the browser can read.
    secret = mfa.unseal(session.get("mfa_secret")) or mfa.new_secret()
    session["mfa_secret"] = mfa.seal(secret)
    form = ReplaceFactorForm() if replacing else CodeForm()
    status = 200
    if form.validate_on_submit():
        refused = (
            reauthenticate(user, form.current.data, form.current_code.data) if replacing else None
        )
        if refused:
            status = refuse(form, refused)
        else:
            if replacing:
                # The new secret's codes are not the old one's: its replay guard starts afresh.
                user.totp_last_step = None
            if mfa.accept(user, form.code.data, secret):
                mfa.enable(user, secret)
                session.pop("mfa_secret", None)
                if replacing:
                    user.end_sessions()
                audit.record(
                    AuditAction.MFA_REPLACED if replacing else AuditAction.MFA_ENABLED,
                    user.username,
                )
                db.session.commit()
                if replacing:
                    continue_session(user)
                    done = _("Your new second factor is on. You were signed out everywhere else.")
                else:
                    done = _(
                        "Your second factor is on. You will be asked for a code at each sign-in."
                    )
                flash(done, "info")
                return redirect(url_for("auth.account"))
            form.code.errors = [
                _("This code is not right. Check the time on your phone and try again.")
            ]
            status = 422
    elif form.errors:
        status = 422
    uri = mfa.provisioning_uri(user, secret)
    uncompressed()  # it shows the secret, the same on each request until it is on
    page = render_template(
        "auth/second_factor.html",
        form=form,
        secret=secret,
        qr=mfa.qr_data_uri(uri),
        replacing=replacing,
    )
    return page, status


@bp.route("/account/second-factor/remove", methods=["GET", "POST"])
def remove_second_factor() -> Response | str | tuple[str, int]:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    user = current_user._get_current_object()
    if not user.totp_secret:
        return redirect(url_for("auth.account"))
    if mfa_required(user):
        flash(_("Your role requires a second factor: you can replace it, not turn it off."), "info")
        return redirect(url_for("auth.account"))
    form = RemoveFactorForm()
    status = 200
    if form.validate_on_submit():
        refused = reauthenticate(user, form.current.data, form.current_code.data)
        if refused:
            status = refuse(form, refused)
        else:
            user.totp_secret, user.totp_last_step = None, None
            user.end_sessions()
            audit.record(AuditAction.MFA_REMOVED, user.username)
            db.session.commit()
            continue_session(user)
            flash(_("Your second factor is off. You were signed out everywhere else."), "info")
            return redirect(url_for("auth.account"))
    elif form.errors:
        status = 422
    return render_template("auth/second_factor_remove.html", form=form), status
