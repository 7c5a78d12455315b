"""Facilitated sessions: scheduling, the printed pack, and results entered from paper."""

from app.services.classroom.pack import (
    Pack,
    grouped,
    print_pack,
    print_sheet,
    sheet_data,
    sheet_url,
)
from app.services.classroom.sessions import (
    SessionRefused,
    cancel,
    entry_closes_on,
    facilitator_choices,
    find_session,
    find_sheet,
    is_open_for_entry,
    schedule,
    sessions_in_scope,
)

__all__ = [
    "Pack",
    "SessionRefused",
    "cancel",
    "entry_closes_on",
    "facilitator_choices",
    "find_session",
    "find_sheet",
    "grouped",
    "is_open_for_entry",
    "print_pack",
    "print_sheet",
    "schedule",
    "sessions_in_scope",
    "sheet_data",
    "sheet_url",
]
