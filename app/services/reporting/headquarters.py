"""Aggregate tables for mission and UN headquarters: counts only, never a person.

Rows are a mission, unit or personnel category and a module; each count is of people
(one person counts once per module). No count can single anyone out:

- a count under 5 people is not shown ("fewer than 5");
- every count shown, totals included, is rounded to the nearest 5 (17 shows as 15,
  18 as 20), so subtracting the other counts of a row or of a module from its total
  leaves an uncertainty of several people, never the hidden count. Rounding, rather
  than hiding more counts, keeps every table consistent with every other filter and
  breakdown, which hidden counts chosen table by table would not.

Percentages are worked out from the rounded counts, so they reveal nothing more.

The people holding a valid completion are also split by how it was earned, online or in
a facilitated session, each count published by the same rules: the two add up to the
complete and expiring counts, and rounding keeps any hidden one from being worked out.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum

from flask import current_app
from flask_babel import gettext as _

from app.models import CATEGORY_LABELS, DeliveryMode, Mission, PersonnelCategory, Unit
from app.services.reporting import source, summary
from app.services.reporting.cells import current_modules
from app.services.reporting.states import Cutoffs, Filters, State

SMALLEST = 5
BASE = 5


class Breakdown(StrEnum):
    """What the rows of a headquarters table are, besides the module."""

    MISSION = "mission"
    UNIT = "unit"
    CATEGORY = "category"


def published(people: int) -> int | None:
    """Return a count as shown: None under 5 people, else rounded to the nearest 5."""
    if people < SMALLEST:
        return None
    return BASE * ((people + BASE // 2) // BASE)


@dataclass
class Counted:
    """The true people per state of one row; only what `published` makes of them is shown."""

    people: dict[str, int] = field(default_factory=dict)
    # Of those holding a valid completion, the people who earned it in a session.
    classroom: int = 0

    def add(self, states: dict[str, int], classroom: int = 0) -> None:
        for state, people in states.items():
            self.people[state] = self.people.get(state, 0) + people
        self.classroom += classroom

    def shown(self) -> Figures:
        done = self.people.get(State.COMPLETE.value, 0) + self.people.get(State.EXPIRING.value, 0)
        required = published(sum(self.people.values()))
        valid = published(done)
        return Figures(
            required=required,
            states={state.value: published(self.people.get(state.value, 0)) for state in State},
            percent=math.floor(100 * valid / required) if valid and required else None,
            earned={
                DeliveryMode.ONLINE.value: published(done - self.classroom),
                DeliveryMode.CLASSROOM.value: published(self.classroom),
            },
        )


@dataclass(frozen=True)
class Figures:
    """The counts of a row as published: None where fewer than 5 people."""

    required: int | None
    states: dict[str, int | None]
    # The share holding a valid completion, from the rounded counts; None if either is hidden.
    percent: int | None
    # Those holding a valid completion by how they earned it, online or in a session.
    earned: dict[str, int | None] = field(default_factory=dict)

    def count(self, state: State) -> int | None:
        return self.states[state.value]

    def earned_by(self, mode: DeliveryMode) -> int | None:
        return self.earned[mode.value]


@dataclass(frozen=True)
class Row:
    """One mission, unit or category (with its mission, for a unit) and one module."""

    group: str
    mission: str
    module: str
    figures: Figures
    # The module's id, for its title in the reader's language.
    module_id: int | None = None


@dataclass(frozen=True)
class Table:
    breakdown: Breakdown
    rows: list[Row]
    # One row per module, over every group shown.
    totals: list[Row]


@dataclass(frozen=True)
class Scope:
    """What a headquarters table covers: every mission, or one; a category; a module."""

    missions: list[Mission]
    units: list[Unit]
    mission: Mission | None = None
    category: str | None = None
    module_id: int | None = None


@dataclass(frozen=True)
class Counting:
    """Counts counted at a moment, kept by an instance for the pages that follow."""

    at: float
    counts: source.Counts


_earned: dict[str, Counting] = {}
_earned_lock = threading.Lock()


def earned_in_classroom(cutoffs: Cutoffs) -> source.Counts:
    """Return the valid records earned in a session per unit, category and module.

    Counted at most once in HEADQUARTERS_DELIVERY_SECONDS by this instance (for its
    database), for every scope at once: a page narrowed to a mission, a category or a
    module keeps what is in it. Within that time a count may lag a session just recorded
    or a record just expired; every count shown is rounded to 5 anyway.
    """
    config = current_app.config
    seconds, database = config["HEADQUARTERS_DELIVERY_SECONDS"], config["SQLALCHEMY_DATABASE_URI"]
    with _earned_lock:
        kept = _earned.get(database)
        if seconds and kept is not None and time.monotonic() - kept.at < seconds:
            return kept.counts
        counts = source.earned_in_classroom(Filters(), cutoffs)
        _earned[database] = Counting(time.monotonic(), counts)
        return counts


def in_scope(counts: source.Counts, filters: Filters) -> source.Counts:
    """Keep the counts (by unit, category and module) of the units, category and module."""
    units = None if filters.unit_ids is None else set(filters.unit_ids)
    return {
        (unit_id, category, module_id): people
        for (unit_id, category, module_id), people in counts.items()
        if (units is None or unit_id in units)
        and filters.category in (None, category)
        and filters.module_id in (None, module_id)
    }


def table(breakdown: Breakdown, scope: Scope, cutoffs: Cutoffs) -> Table:
    """Return the published counts of every group and module in scope, and their totals."""
    units = [u for u in scope.units if scope.mission is None or u.mission_id == scope.mission.id]
    missions = {mission.id: mission for mission in scope.missions}
    filters = Filters(
        unit_ids=None if scope.mission is None else [unit.id for unit in units],
        category=scope.category,
        module_id=scope.module_id,
    )
    by_unit = {unit.id: unit for unit in units}
    groups: dict[tuple[str, str, int], Counted] = {}
    totals: dict[int, Counted] = {}
    by = ("category", "module_id") if breakdown == Breakdown.CATEGORY else ("unit_id", "module_id")
    classroom = source.regroup(in_scope(earned_in_classroom(cutoffs), filters), by)
    for (group_id, module_id), states in summary.counts(filters, cutoffs, by).items():
        if breakdown == Breakdown.CATEGORY:
            key = (_category_label(group_id), "")
        elif (unit := by_unit.get(group_id)) is not None:
            mission = missions[unit.mission_id].name
            key = (mission, mission) if breakdown == Breakdown.MISSION else (unit.name, mission)
        else:
            continue
        earned = classroom.get((group_id, module_id), {}).get(DeliveryMode.CLASSROOM.value, 0)
        groups.setdefault((*key, module_id), Counted()).add(states, earned)
        totals.setdefault(module_id, Counted()).add(states, earned)
    titles = {version.module_id: version.title for version in current_modules()}
    rows = [
        Row(group, mission, titles[module_id], counted.shown(), module_id)
        for (group, mission, module_id), counted in groups.items()
        if module_id in titles
    ]
    rows.sort(key=lambda row: (row.group, row.mission, row.module))
    return Table(breakdown, rows, _totals(totals, titles))


def _totals(totals: dict[int, Counted], titles: dict[int, str]) -> list[Row]:
    rows = [
        Row("", "", titles[module_id], counted.shown(), module_id)
        for module_id, counted in totals.items()
        if module_id in titles
    ]
    return sorted(rows, key=lambda row: row.module)


def _category_label(category: str) -> str:
    return str(CATEGORY_LABELS[PersonnelCategory(category)])


def figures_row(figures: Figures) -> list[object]:
    """Return the counts of a row for an export, as published; hidden ones as a phrase."""
    hidden = _("fewer than 5")
    counts = [figures.required, *(figures.count(state) for state in State)]
    earned = [figures.earned_by(mode) for mode in DeliveryMode]
    shown = [hidden if value is None else value for value in counts]
    return [*shown, figures.percent, *(hidden if value is None else value for value in earned)]
