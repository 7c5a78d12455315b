"""The forms of a session: scheduling it, and the buttons that change it."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, Form, StringField
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import DateInput

DATE_HINT = _l("Write the date as YYYY-MM-DD, for example 2026-12-01.")


def iso_date(form: Form, field: Field) -> None:
    """Refuse a date not written YYYY-MM-DD (as a date field sends it)."""
    try:
        field.data = date.fromisoformat(field.raw_data[0].strip() if field.raw_data else "")
    except ValueError:
        raise ValidationError(str(DATE_HINT)) from None


class ScheduleForm(FlaskForm):
    """When and where a session is held; the modules and people are picked around it."""

    held_on = StringField(
        _l("Date"),
        validators=[InputRequired(_l("Give the session's date.")), iso_date],
        widget=DateInput(),
    )
    place = StringField(
        _l("Place"),
        validators=[
            InputRequired(_l("Say where the session is held.")),
            Length(max=200, message=_l("Write the place in at most 200 characters.")),
        ],
    )


class ChangeForm(FlaskForm):
    """A button that changes a session: its CSRF token only."""
