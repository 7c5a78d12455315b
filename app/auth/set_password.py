"""Setting a first password from the link a new person receives."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import SetPasswordForm
from app.auth.signin import sign_out_here
from app.extensions import db
from app.models import AuditAction
from app.services import accounts, audit


@bp.route("/set-password", methods=["GET", "POST"])
def set_password() -> Response:
    """Set a first password; the token comes in a form, never in the address.

    The e-mailed link carries the token after a #, which browsers never send: it stays
    out of every access log, proxy and Referer. The page's form posts it (a small script
    fills it in and sends it; without script, the person pastes it), and the answer, for
    the person the token names, asks for the new password.
    """
    form = SetPasswordForm()
    token = (form.token.data or "").strip() if request.method == "POST" else ""
    user = accounts.user_for_token(token) if token else None
    if token and user is None:
        page = render_template("auth/set_password.html", form=None, user=None)
        return private(make_response(page, 400))
    form.person = user
    status = 200
    if user is not None and "password" not in request.form:
        form = SetPasswordForm(formdata=None, token=token)  # the link opened: nothing to check
    elif form.validate_on_submit() and user is not None:
        accounts.set_password(user, form.password.data)
        audit.record(AuditAction.PASSWORD_SET, user.username, actor=user)
        db.session.commit()
        # Whoever was signed in on this browser is not the person who now owns the account.
        sign_out_here()
        flash(
            _("Your password is set. Sign in with your service number and your new password."),
            "info",
        )
        return redirect(url_for("auth.login"))
    elif form.errors:
        status = 422
    page = render_template(
        "auth/set_password.html", form=form, user=user, days=accounts.link_days()
    )
    return private(make_response(page, status))


@bp.route("/forgot-password")
def forgot_password() -> str:
    """Say how to get a new password: from one's training coordinator, not by e-mail.

    The page asks for nothing, so it tells nobody whether an account exists.
    """
    return render_template("auth/forgot_password.html", days=accounts.link_days())


@bp.route("/set-password/<token>")
def set_password_old_link(token: str) -> Response:
    """Send a link of the earlier form (token in the path) to the page that keeps it out."""
    return private(redirect(url_for("auth.set_password") + "#" + token))


def private(response: Response) -> Response:
    """Keep a page whose address is a secret out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response
