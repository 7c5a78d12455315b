"""How the audit trail reads to an administrator: events and details in words, not codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import i18n
from app.models import AuditAction, AuditEntry

ACTION_LABELS = {
    AuditAction.SIGN_IN: _l("Signed in"),
    AuditAction.SIGN_IN_FAILED: _l("Sign-in refused"),
    AuditAction.SIGN_IN_THROTTLED: _l("Sign-in attempts limited"),
    AuditAction.SIGN_OUT: _l("Signed out"),
    AuditAction.PASSWORD_SET: _l("Password set from a link"),
    AuditAction.PASSWORD_CHANGED: _l("Password changed"),
    AuditAction.MFA_ENABLED: _l("Second factor set up"),
    AuditAction.ACCOUNT_CHANGED: _l("Account changed"),
    AuditAction.ROSTER_IMPORTED: _l("Roster imported"),
    AuditAction.COMPLETION_RECORDED: _l("Module completed"),
    AuditAction.CERTIFICATE_ISSUED: _l("Certificate issued"),
    AuditAction.CERTIFICATE_REVOKED: _l("Certificate revoked"),
    AuditAction.EXPORT: _l("Exported or downloaded"),
    AuditAction.MFA_REPLACED: _l("Second factor replaced"),
    AuditAction.MFA_REMOVED: _l("Second factor turned off"),
    AuditAction.REAUTHENTICATION_FAILED: _l("Wrong password or code to confirm a change"),
    AuditAction.RECORD_DOWNLOADED: _l("Training record downloaded"),
    AuditAction.ROSTER_UPLOADED: _l("Roster uploaded for preview"),
    AuditAction.PRINT_JOB_CREATED: _l("Certificates sent to print"),
    AuditAction.SET_PASSWORD_LINKS_REISSUED: _l("Set-password links issued again"),
    AuditAction.SET_PASSWORD_LINK_ISSUED: _l("New set-password link issued"),
    AuditAction.CLASSROOM_SCHEDULED: _l("Classroom session scheduled"),
    AuditAction.CLASSROOM_PARTICIPANTS_ADDED: _l("Participants added to a classroom session"),
    AuditAction.CLASSROOM_PARTICIPANT_REMOVED: _l("Participant removed from a classroom session"),
    AuditAction.CLASSROOM_CANCELLED: _l("Classroom session cancelled"),
    AuditAction.CLASSROOM_PACK_PRINTED: _l("Session pack printed"),
    AuditAction.CLASSROOM_RESULTS_ENTERED: _l("Session results recorded"),
    AuditAction.RATE_LIMITED: _l("Requests refused: too many"),
    AuditAction.AUDIT_CHECKPOINT: _l("Audit trail checkpoint signed"),
}

DETAIL_LABELS = {
    "reason": _l("Reason"),
    "limit": _l("Limit"),
    "role": _l("Role"),
    "category": _l("Category"),
    "position": _l("Position"),
    "unit": _l("Unit"),
    "assigned_units": _l("Units assigned"),
    "is_active": _l("Account active"),
    "created": _l("Created"),
    "updated": _l("Updated"),
    "unchanged": _l("Unchanged"),
    "attempt": _l("Quiz attempt"),
    "score": _l("Score"),
    "expires": _l("Valid until"),
    "for": _l("For"),
    "holder": _l("Holder"),
    "module": _l("Module"),
    "people": _l("People"),
    "participants": _l("Participants"),
    "service_number": _l("Service number"),
    "output": _l("File"),
    "rows": _l("Rows"),
    "delivery": _l("How it was earned"),
}

# A day or a moment as the trail stores them (YYYY-MM-DD, then maybe THH:MM…).
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T|$)")


@dataclass(frozen=True)
class Line:
    """One entry as shown: the event in words and its details as labelled values."""

    entry: AuditEntry
    event: str
    details: list[tuple[str, str]]


def action_label(action: str) -> str:
    """Name an event in words; an event unknown to this version keeps its code."""
    try:
        return str(ACTION_LABELS[AuditAction(action)])
    except (ValueError, KeyError):
        return action


def describe(entry: AuditEntry) -> Line:
    """Put an entry into words for the audit trail page."""
    details = entry.details if isinstance(entry.details, dict) else {"": entry.details}
    changes = entry.action == AuditAction.ACCOUNT_CHANGED
    # A roster import lists, per person updated, each field as [before, after].
    changed_people = entry.action == AuditAction.ROSTER_IMPORTED
    return Line(
        entry,
        action_label(entry.action),
        [
            (detail_label(key), show(value, changes or (changed_people and key == "updated")))
            for key, value in details.items()
        ],
    )


def detail_label(key: str) -> str:
    """Name a detail in words; unknown keys read as words too."""
    label = DETAIL_LABELS.get(key)
    if label:
        return str(label)
    # A field name reads as words; a value used as a key (a service number) stays as it is.
    return key.replace("_", " ").capitalize() if key.isidentifier() and key.islower() else key


def show(value: Any, change: bool = False) -> str:
    """Write a detail's value plainly: lists joined, yes/no, dates without microseconds."""
    if change and isinstance(value, list) and len(value) == 2:
        # Translators: the arrow points from the old value to the new; right to left, ←.
        return str(_("%(before)s → %(after)s", before=show(value[0]), after=show(value[1])))
    if value is None:
        return str(_("none"))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(show(item) for item in value) if value else str(_("none"))
    if isinstance(value, dict):
        return "; ".join(
            # Translators: a label and its value, as in "Unit: 1st Battalion".
            _("%(label)s: %(value)s", label=detail_label(k), value=show(v, change))
            for k, v in value.items()
        )
    if isinstance(value, str) and ISO_DATE.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if "T" in value:
            return i18n.format_moment(moment) + " UTC"
        return i18n.format_day(moment)
    if isinstance(value, str):
        return value
    return str(value)
