"""The completion matrix: people per unit, module and state, from the report counts."""

from __future__ import annotations

from dataclasses import replace

from app.models import Unit
from app.services.reporting import summary
from app.services.reporting.cells import Cell, Matrix, current_modules
from app.services.reporting.states import Cutoffs, Filters


def cells(filters: Filters, cutoffs: Cutoffs) -> dict[tuple[int, int], Cell]:
    """Count people per unit, module and state (every state: the filter's is not applied)."""
    counted = summary.counts(replace(filters, state=None), cutoffs, ("unit_id", "module_id"))
    return {(unit_id, module_id): Cell(states) for (unit_id, module_id), states in counted.items()}


def matrix(units: list[Unit], filters: Filters, cutoffs: Cutoffs) -> Matrix:
    """Count people per unit, module and state, for the units and modules shown."""
    counted = cells(filters, cutoffs)
    if filters.state is not None:
        for cell in counted.values():
            cell.counts = {k: v for k, v in cell.counts.items() if k == filters.state.value}
    modules = current_modules()
    if filters.module_id:
        modules = [m for m in modules if m.module_id == filters.module_id]
    return Matrix(units, modules, counted)
