"""Password rules: long enough, not too long to hash, and not a commonly used password."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"


@cache
def dummy_hash() -> str:
    """Return a hash no password matches, made the way real ones are, to check against."""
    return generate_password_hash("no account has this password")


def verify(password_hash: str | None, password: str) -> bool:
    """Check a password against a hash, hashing even when there is none.

    An unknown account, or one without a password yet, takes as long to refuse as a
    wrong password: the answer's timing does not tell which accounts exist.
    """
    matches = check_password_hash(password_hash or dummy_hash(), password)
    return matches and password_hash is not None


@cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, lower-cased, loaded once."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def problems(password: str, *personal: str) -> list[str]:
    """Return what is wrong with a new password; an empty list means it is acceptable.

    No composition rules (ASVS 6.2): length, the common-password list, and not the
    person's own username or service number.
    """
    found = []
    if len(password) < MIN_LENGTH:
        found.append(_("Use at least %(n)s characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        found.append(_("Use at most %(n)s characters.", n=MAX_LENGTH))
    lowered = password.lower()
    if lowered in common_passwords():
        found.append(_("This password is too common; choose one that others would not guess."))
    elif any(item and item.lower() in lowered for item in personal if len(item) >= 4):
        found.append(_("Do not use your username or service number in your password."))
    return found
