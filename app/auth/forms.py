"""Sign-in and set-password forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.services import passwords


class PasswordRules:
    """Apply the password rules; the person is the one the form is for."""

    def __call__(self, form: Any, field: Any) -> None:
        person = getattr(form, "person", None) or (
            current_user if current_user.is_authenticated else None
        )
        personal = (person.username, person.service_number) if person is not None else ()
        found = passwords.problems(field.data or "", *personal)
        if found:
            raise ValidationError(" ".join(found))


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username or service number"),
        validators=[DataRequired(_l("Enter your username.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            PasswordRules(),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set my password"))


class SetPasswordForm(NewPasswordForm):
    token = StringField(
        _l("Code from your link"),
        validators=[
            DataRequired(_l("Copy the code from your link: everything after the # sign.")),
            Length(max=500),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Change my password"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Six-digit code from your authenticator app"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Continue"))


def current_password_field() -> PasswordField:
    """Return the field asking for the current password to confirm a change."""
    return PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )


def current_code_field() -> StringField:
    """Return the field asking for a code from the authenticator app in use."""
    return StringField(
        _l("Code from your current authenticator app"),
        validators=[DataRequired(_l("Enter a code from your current app.")), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ReplaceFactorForm(CodeForm):
    current = current_password_field()
    current_code = current_code_field()
    code = StringField(
        _l("Six-digit code from the new key"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=12)],
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Replace my second factor"))


class RemoveFactorForm(FlaskForm):
    current = current_password_field()
    current_code = current_code_field()
    submit = SubmitField(_l("Turn off my second factor"))
