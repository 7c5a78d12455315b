"""Account administration form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, SubmitField
from wtforms.fields.choices import SelectChoice

from app.models import CATEGORY_LABELS, PersonnelCategory, Position, Role

ROLE_LABELS = {
    Role.PEACEKEEPER: _l("Peacekeeper"),
    Role.COORDINATOR: _l("Training coordinator"),
    Role.COMMANDER: _l("Commander"),
    Role.HEADQUARTERS: _l("Headquarters (aggregate figures only)"),
    Role.ADMIN: _l("Administrator"),
    Role.FACILITATOR: _l("Facilitator (runs classroom sessions)"),
}
POSITION_LABELS = {
    Position.MEMBER: _l("Member"),
    Position.MANAGER: _l("Manager"),
    Position.COMMANDER: _l("Commander"),
}


class AccountForm(FlaskForm):
    # A list always holds one of its choices, and refuses any other value sent: it needs
    # no `required` (which HTML allows on a list only with an empty first choice).
    role = SelectField(
        _l("Role on the platform"),
        choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
    )
    category = SelectField(
        _l("Personnel category"),
        choices=[SelectChoice(c.value, CATEGORY_LABELS[c]) for c in PersonnelCategory],
    )
    position = SelectField(
        _l("Position"),
        choices=[SelectChoice(p.value, label) for p, label in POSITION_LABELS.items()],
    )
    unit = SelectField(_l("Unit"), coerce=int)
    assigned_units = SelectMultipleField(
        _l("Units this person coordinates or commands"), coerce=int
    )
    is_active = BooleanField(_l("Account active (clear to disable sign-in)"))
    submit = SubmitField(_l("Save"))
