"""Facilitated sessions: scheduling, the printed pack, and results entered from paper."""

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
    "SessionRefused",
    "cancel",
    "entry_closes_on",
    "facilitator_choices",
    "find_session",
    "find_sheet",
    "is_open_for_entry",
    "schedule",
    "sessions_in_scope",
]
