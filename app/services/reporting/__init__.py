"""Completion reports: who has completed what, who is overdue or expiring.

Every report is a fixed number of queries whatever the number of people. Counts come
from a summary the database keeps with every write (summary, on app/models/reports.py),
brought to the present moment as they are read; listed people are read one page at a
time by their place in the list, along an index in that order.

states holds the cutoffs, due dates, filters and the state of each person and
module; source counts people from people and records directly (what the summary must
equal); summary reads, rebuilds, refreshes and checks the summary; cells the counts;
matrix the unit-by-module counts; people the listed people; headquarters the
aggregate tables for headquarters; trend the completions per month.
"""

from app.services.reporting.cells import Cell, Matrix, current_modules
from app.services.reporting.matrix import cells, matrix
from app.services.reporting.people import (
    Earned,
    Page,
    PersonRow,
    Place,
    UnknownPlace,
    by_module,
    people,
    report,
)
from app.services.reporting.states import (
    STATE_ORDER,
    Cutoffs,
    Filters,
    State,
    aware,
    due_date,
    person_module_states,
    record_of_requirement,
    state_label,
)
from app.services.reporting.trend import completions_by_month

__all__ = [
    "STATE_ORDER",
    "Cell",
    "Cutoffs",
    "Earned",
    "Filters",
    "Matrix",
    "Page",
    "PersonRow",
    "Place",
    "State",
    "UnknownPlace",
    "aware",
    "by_module",
    "cells",
    "completions_by_month",
    "current_modules",
    "due_date",
    "matrix",
    "people",
    "person_module_states",
    "record_of_requirement",
    "report",
    "state_label",
]
