"""Counts of people per state, by unit and module, and the modules they are counted on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa

from app.extensions import db
from app.models import ModuleVersion, TrainingModule, Unit
from app.services.reporting.states import State


@dataclass
class Cell:
    """Counts of people per state for one unit (or all units) and one module."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, state: State) -> int:
        """Return the number of people in a state."""
        return self.counts.get(state.value, 0)

    @property
    def done(self) -> int:
        """Return the number holding a valid completion (expiring or not)."""
        return self.count(State.COMPLETE) + self.count(State.EXPIRING)

    def percent(self, state: State | None = None) -> int:
        """Return a share of the total, rounded down (done when no state is given)."""
        part = self.done if state is None else self.count(state)
        return math.floor(100 * part / self.total) if self.total else 0

    def add(self, other: Cell) -> None:
        """Add another cell's counts to this one."""
        for key, value in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + value


class Shown(NamedTuple):
    """A cell's figures as the matrix shows them: worked out once, printed as they are."""

    done: int
    total: int
    percent: int
    overdue: int
    expiring: int


@dataclass
class Matrix:
    """Completion counts by unit and module, with totals."""

    units: list[Unit]
    modules: list[ModuleVersion]
    cells: dict[tuple[int, int], Cell]

    def cell(self, unit_id: int, module_id: int) -> Cell:
        """Return the counts for one unit and module."""
        return self.cells.get((unit_id, module_id), Cell())

    def shown(self, unit_id: int) -> list[tuple[ModuleVersion, Shown | None]]:
        """Return each module's figures for a unit, None where nobody must take it."""
        row: list[tuple[ModuleVersion, Shown | None]] = []
        for module in self.modules:
            cell = self.cells.get((unit_id, module.module_id))
            shown = None
            if cell is not None and cell.total:
                shown = Shown(cell.done, cell.total, cell.percent(),
                              cell.count(State.OVERDUE), cell.count(State.EXPIRING))  # fmt: skip
            row.append((module, shown))
        return row

    def unit_total(self, unit_id: int) -> Cell:
        """Return the counts for one unit over all modules."""
        total = Cell()
        for module in self.modules:
            total.add(self.cell(unit_id, module.module_id))
        return total

    @property
    def total(self) -> Cell:
        """Return the counts over every unit and module."""
        total = Cell()
        for cell in self.cells.values():
            total.add(cell)
        return total


def current_modules() -> list[ModuleVersion]:
    """Return the current version of every published module, by title."""
    return list(
        db.session.scalars(
            sa.select(ModuleVersion)
            .join(TrainingModule)
            .where(ModuleVersion.is_current, TrainingModule.retired_at.is_(None))
            .order_by(ModuleVersion.title)
        )
    )
