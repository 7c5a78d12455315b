"""Sessions: the list, scheduling, a session's page, its participants, cancelling.

Picking people keeps its state in the form, not on the server: the people ticked, the
filters and the modules travel with every submission, so the picker works without
JavaScript and two tabs never mix their choices.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app import params
from app.classroom import bp
from app.classroom.forms import ChangeForm, ScheduleForm
from app.extensions import db
from app.models import (
    AnswerSheet,
    ClassroomParticipant,
    ClassroomSession,
    ClassroomSessionModule,
    PersonnelCategory,
    Role,
    Unit,
    User,
)
from app.models.types import utcnow
from app.services import classroom, organisation, pagination, translations
from app.services.classroom import RosterFilter, SessionRefused, SessionState
from app.services.content import published
from app.services.content.published import ModuleContent

PER_PAGE = 50


@bp.app_template_global()
def session_link(endpoint: str, **values: Any) -> str | None:
    """Return the address of a session page if the platform has it, else None."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


@bp.context_processor
def session_helpers() -> dict[str, object]:
    """Give session templates the states of a session and their names."""
    return {"SessionState": SessionState, "state_of": classroom.state_of}


def to_detail(session: ClassroomSession) -> Response:
    """Show the session's page."""
    return redirect(url_for("classroom.detail", session_id=session.id))


def saved(session: ClassroomSession, message: str) -> Response:
    """Commit the change, say what it did, and show the session's page."""
    db.session.commit()
    flash(message, "info")
    return to_detail(session)


@contextmanager
def refusals(say: Callable[[str], object]) -> Iterator[None]:
    """Undo whatever a change the service refuses did, and say why it was refused.

    The block goes on past the change (to save it) only if the service accepted it.
    """
    try:
        yield
    except SessionRefused as refused:
        db.session.rollback()
        say(refused.message)


def flash_error(message: str) -> None:
    """Say, on the next page shown, what went wrong."""
    flash(message, "error")


def session_or_404(session_id: int) -> ClassroomSession:
    """Return a session the person may see; any other, another unit's included, is 404."""
    return classroom.find_session(current_user, session_id) or abort(404)


def managed_or_403(session_id: int) -> ClassroomSession:
    """Return a session the person may change: its unit's coordinators and administrators."""
    session = session_or_404(session_id)
    if not classroom.may_manage(current_user, session):
        abort(403)
    return session


def may_schedule() -> bool:
    """Return whether the person schedules sessions: coordinators and administrators."""
    return current_user.role in (Role.COORDINATOR, Role.ADMIN)


@bp.route("/")
def index() -> str:
    """List the sessions the person may see: upcoming ones soonest first, or past ones."""
    past = params.query_choice("when", {"past"}) == "past"
    today = utcnow().date()
    query = classroom.sessions_in_scope(current_user).options(
        selectinload(ClassroomSession.unit),
        selectinload(ClassroomSession.modules).selectinload(ClassroomSessionModule.module_version),
    )
    if past:
        query = query.where(ClassroomSession.held_on < today)
    else:
        query = query.where(ClassroomSession.held_on >= today).order_by(None)
        query = query.order_by(ClassroomSession.held_on, ClassroomSession.id)
    page = pagination.window(query, params.query_page(PER_PAGE), PER_PAGE)
    counts: dict[int, int] = {
        session_id: people
        for session_id, people in db.session.execute(
            sa.select(ClassroomParticipant.session_id, sa.func.count())
            .where(ClassroomParticipant.session_id.in_([s.id for s in page.items]))
            .group_by(ClassroomParticipant.session_id)
        )
    }
    versions = {m.module_version.id: m.module_version for s in page.items for m in s.modules}
    return render_template(
        "classroom/index.html",
        sessions=page.items,
        page=page,
        past=past,
        counts=counts,
        titles=translations.titles(versions.values()),
        may_schedule=may_schedule(),
    )


def form_ids(values: MultiDict[str, str], name: str) -> list[int]:
    """Read the ids a form sends under a name, in order, once each; 404 when malformed."""
    found: dict[int, None] = {}
    for text in values.getlist(name):
        value = params.parse_id(text)
        if value is None:
            abort(404)
        found[value] = None
    return list(found)


def form_text(values: MultiDict[str, str], name: str) -> str:
    """Read a text a form sends, trimmed; 404 when it holds a NUL character."""
    text = values.get(name, "").strip()
    if "\x00" in text:
        abort(404)
    return text


@dataclass
class Picker:
    """The people listed for picking and those ticked, read from the form or query string."""

    unit: Unit
    within: Unit
    sub_units: list[Unit]
    category: str | None
    search: str
    ticked: list[int]
    # Those already taking part, when adding to a session: listed but not offered again.
    taking_part: Collection[int] = ()
    people: list[User] = field(default_factory=list)

    @property
    def ticked_set(self) -> set[int]:
        return set(self.ticked)

    @property
    def filters(self) -> RosterFilter:
        ids = organisation.subtree_ids(self.sub_units, self.within.id)
        return RosterFilter(ids, self.category, self.search)

    def groups(self) -> list[tuple[Unit, list[User]]]:
        """Return the people listed, by their unit."""
        grouped: dict[int, tuple[Unit, list[User]]] = {}
        for person in self.people:
            assert person.unit is not None
            grouped.setdefault(person.unit.id, (person.unit, []))[1].append(person)
        return list(grouped.values())

    def hidden_ticked(self) -> list[int]:
        """Return the people ticked but not listed now, kept in the form as hidden fields."""
        listed = {person.id for person in self.people}
        return [person_id for person_id in self.ticked if person_id not in listed]


def read_picker(
    unit: Unit,
    values: MultiDict[str, str],
    versions: list[ModuleContent],
    taking_part: Collection[int] = (),
) -> Picker:
    """Read the picker's filters and ticks, and apply the button pressed (tick a group...)."""
    sub_units = [u for u in organisation.all_units() if u.id in unit_subtree(unit)]
    within_id = params.parse_id(values.get("within", "")) if values.get("within") else unit.id
    within = next((u for u in sub_units if u.id == within_id), None) or abort(404)
    category = values.get("category") or None
    if category is not None and category not in {c.value for c in PersonnelCategory}:
        abort(404)
    picker = Picker(
        unit,
        within,
        sub_units,
        category,
        form_text(values, "q"),
        form_ids(values, "person"),
        taking_part,
    )
    picker.people = [p for p in classroom.roster(picker.filters) if p.id not in taking_part]
    ticked = dict.fromkeys(picker.ticked)
    if request.method == "POST":
        group = params.parse_id(values.get("tick_group", ""))
        ungroup = params.parse_id(values.get("untick_group", ""))
        if values.get("action") == "not_complete":
            due = classroom.not_yet_complete(
                RosterFilter(picker.filters.unit_ids, category), [v.module_id for v in versions]
            )
            # Whatever the name searched: the search only narrows what is listed.
            ticked.update(dict.fromkeys(sorted(due - set(taking_part))))
        elif group is not None:
            ticked.update(dict.fromkeys(p.id for p in picker.people if p.unit_id == group))
        elif ungroup is not None:
            for person in picker.people:
                if person.unit_id == ungroup:
                    ticked.pop(person.id, None)
    picker.ticked = list(ticked)
    return picker


def unit_subtree(unit: Unit) -> set[int]:
    """Return the ids of a unit and the units below it."""
    return set(organisation.subtree_ids(organisation.all_units(), unit.id))


def picked_people(unit: Unit, picker: Picker) -> list[User]:
    """Return the people ticked, refusing anyone not on the unit's roster."""
    people = classroom.people_in_roster(unit, picker.ticked)
    if len(people) != len(picker.ticked):
        raise SessionRefused(
            _(
                "Some of the people ticked are not on the roster of %(unit)s: tick"
                " participants among those listed.",
                unit=unit.name,
            )
        )
    return people


def picked_facilitators(choices: list[User], ids: list[int]) -> list[User]:
    """Return the facilitators ticked, refusing anyone not among those offered."""
    offered = {person.id: person for person in choices}
    if any(person_id not in offered for person_id in ids):
        raise SessionRefused(_("Choose the facilitators among those listed."))
    return [offered[person_id] for person_id in ids]


@bp.route("/new", methods=["GET", "POST"])
def schedule() -> ResponseReturnValue:
    """Schedule a session: first the unit and modules, then the date, place and people."""
    if not may_schedule():
        abort(403)
    values = request.form if request.method == "POST" else request.args
    units = organisation.units_in_scope(current_user)
    modules = classroom.schedulable_modules()
    unit_id = params.parse_id(values.get("unit", "")) if values.get("unit") else None
    unit = next((u for u in units if u.id == unit_id), None)
    if unit_id is not None and unit is None:
        abort(404)
    chosen_ids = set(form_ids(values, "module"))
    versions = [version for version in modules if version.id in chosen_ids]
    titles = translations.titles(modules)
    if unit is None or not versions:
        missing = "unit" in values and not versions
        start_errors = [_("Choose at least one module.")] if missing else []
        return render_template(
            "classroom/schedule_start.html",
            units=units,
            unit=unit or (units[0] if len(units) == 1 else None),
            modules=modules,
            chosen=chosen_ids,
            titles=titles,
            errors=start_errors,
        ), (422 if start_errors else 200)
    picker = read_picker(unit, values, versions)
    form = ScheduleForm(formdata=request.form if request.method == "POST" else None)
    facilitators = classroom.facilitator_choices(unit)
    if request.method == "GET":
        chosen_facilitators = [p.id for p in facilitators if p.id == current_user.id]
    else:
        chosen_facilitators = form_ids(values, "facilitator")
    errors: list[str] = []
    if values.get("action") == "schedule" and form.validate():
        with refusals(errors.append):
            session = classroom.schedule(
                current_user,
                unit,
                form.held_on.data,
                form.place.data or "",
                versions,
                picked_facilitators(facilitators, chosen_facilitators),
                picked_people(unit, picker),
            )
            return saved(
                session,
                ngettext(
                    "Session %(code)s scheduled for %(num)s person.",
                    "Session %(code)s scheduled for %(num)s people.",
                    len(session.participants),
                    code=session.code,
                ),
            )
    page = render_template(
        "classroom/schedule.html",
        form=form,
        unit=unit,
        versions=versions,
        titles=titles,
        facilitators=facilitators,
        chosen_facilitators=chosen_facilitators,
        picker=picker,
        categories=list(PersonnelCategory),
        errors=errors,
    )
    return (page, 422) if errors or form.errors else page


@dataclass(frozen=True)
class Row:
    """A participant as the session's page lists them: their sheets and how they did."""

    person: User
    attended: bool | None
    # Per module of the session, in its order: the sheet (None if missing) and its result.
    sheets: list[tuple[AnswerSheet | None, str]]


def outcome(attended: bool | None, sheet: AnswerSheet | None) -> str:
    """Return how a participant did on one sheet: not recorded, absent, attended, passed..."""
    if attended is None:
        return "not_recorded"
    if not attended:
        return "absent"
    if sheet is None or sheet.attempt.passed is None:
        return "attended"
    return "passed" if sheet.attempt.passed else "failed"


def participant_rows(session: ClassroomSession) -> list[Row]:
    """Return the session's participants by name, each with a sheet per module."""
    participants = db.session.scalars(
        sa.select(ClassroomParticipant)
        .join(User, User.id == ClassroomParticipant.user_id)
        .where(ClassroomParticipant.session_id == session.id)
        .options(selectinload(ClassroomParticipant.user))
        .order_by(User.full_name, User.id)
    ).all()
    sheets = {
        (sheet.user_id, sheet.module_version_id): sheet
        for sheet in db.session.scalars(
            sa.select(AnswerSheet)
            .where(AnswerSheet.session_id == session.id)
            .options(selectinload(AnswerSheet.attempt))
        )
    }
    rows = []
    for participant in participants:
        found = [sheets.get((participant.user_id, m.module_version_id)) for m in session.modules]
        rows.append(
            Row(
                participant.user,
                participant.attended,
                [(sheet, outcome(participant.attended, sheet)) for sheet in found],
            )
        )
    return rows


@bp.route("/<int:session_id>")
def detail(session_id: int) -> str:
    """Show a session: its modules, date, place, facilitators, and each participant."""
    session = session_or_404(session_id)
    versions = [m.module_version for m in session.modules]
    return render_template(
        "classroom/detail.html",
        session=session,
        titles=translations.titles(versions),
        rows=participant_rows(session),
        may_manage=classroom.may_manage(current_user, session),
        open_for_changes=classroom.is_open_for_changes(session),
    )


@bp.route("/<int:session_id>/participants", methods=["GET", "POST"])
def add_participants(session_id: int) -> ResponseReturnValue:
    """Add people of the unit's roster to a session not yet recorded."""
    session = managed_or_403(session_id)
    if not classroom.is_open_for_changes(session):
        flash_error(_("This session is closed: participants can no longer change."))
        return to_detail(session)
    values = request.form if request.method == "POST" else request.args
    versions = [published.version(m.module_version_id) for m in session.modules]
    taking_part = {participant.user_id for participant in session.participants}
    picker = read_picker(session.unit, values, versions, taking_part)
    form = ChangeForm()
    errors: list[str] = []
    if values.get("action") == "add" and form.validate():
        with refusals(errors.append):
            added = classroom.add_participants(
                session, picked_people(session.unit, picker), current_user
            )
            return saved(
                session,
                ngettext(
                    "%(num)s person added, with an answer sheet per module.",
                    "%(num)s people added, each with an answer sheet per module.",
                    len(added),
                ),
            )
    page = render_template(
        "classroom/participants.html",
        session=session,
        versions=versions,
        titles=translations.titles(versions),
        picker=picker,
        categories=list(PersonnelCategory),
        form=form,
        errors=errors,
    )
    return (page, 422) if errors else page


@bp.route("/<int:session_id>/participants/remove", methods=["POST"])
def remove_participant(session_id: int) -> Response:
    """Take a participant off a session not yet recorded, with their answer sheets."""
    session = managed_or_403(session_id)
    form = ChangeForm()
    person_id = params.parse_id(request.form.get("person", ""))
    taking_part = {participant.user_id: participant for participant in session.participants}
    if not form.validate():
        abort(400)
    if person_id not in taking_part:
        # Removed already (a second click): nothing left to do.
        return to_detail(session)
    person = taking_part[person_id].user
    with refusals(flash_error):
        classroom.remove_participant(session, person, current_user)
        return saved(
            session,
            _(
                "%(name)s no longer takes part; their answer sheets are withdrawn.",
                name=person.full_name,
            ),
        )
    return to_detail(session)


@bp.route("/<int:session_id>/cancel", methods=["GET", "POST"])
def cancel(session_id: int) -> ResponseReturnValue:
    """Cancel a session not yet recorded, after a page asking to confirm."""
    session = managed_or_403(session_id)
    if classroom.state_of(session) != SessionState.SCHEDULED:
        if session.recorded_at is not None:
            flash_error(_("This session's results are recorded: it cannot be cancelled."))
        return to_detail(session)
    form = ChangeForm()
    if form.validate_on_submit():
        classroom.cancel(session, current_user)
        return saved(session, _("Session %(code)s is cancelled.", code=session.code))
    return render_template("classroom/cancel.html", session=session, form=form)
