"""Completion reports in aggregate SQL: who has completed what, who is overdue or expiring.

Every report is a fixed number of queries whatever the number of people: the
curriculum table joins people to the modules they must take, and one grouped
query turns their completions into a state per person and module.

states holds the cutoffs, due dates, filters and the state of each person and
module; cells the counts; matrix the unit-by-module counts; people the listed
people with their counts; trend the completions per month.
"""

from app.services.reporting.cells import Cell, Matrix, current_modules
from app.services.reporting.matrix import matrix
from app.services.reporting.people import Page, PersonRow, by_module, people, report
from app.services.reporting.states import (
    STATE_ORDER,
    Cutoffs,
    Filters,
    State,
    aware,
    due_date,
    person_module_states,
    record_of_requirement,
)
from app.services.reporting.trend import completions_by_month

__all__ = [
    "STATE_ORDER",
    "Cell",
    "Cutoffs",
    "Filters",
    "Matrix",
    "Page",
    "PersonRow",
    "State",
    "aware",
    "by_module",
    "completions_by_month",
    "current_modules",
    "due_date",
    "matrix",
    "people",
    "person_module_states",
    "record_of_requirement",
    "report",
]
