"""Second factor: time-based one-time passwords (RFC 6238) from an authenticator app."""

from __future__ import annotations

import time

import pyotp
import segno

from app.models import User

ISSUER = "Blue Beret"


def new_secret() -> str:
    """Return a fresh random secret for an authenticator app."""
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """Return the otpauth:// address an authenticator app reads from a QR code."""
    return str(pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER))


def qr_data_uri(uri: str) -> str:
    """Return the QR code of an otpauth:// address as a PNG data URI."""
    return str(segno.make(uri, error="m").png_data_uri(scale=5, border=2))


def accept(user: User, code: str, secret: str | None = None, now: float | None = None) -> bool:
    """Check a code, refusing one already used (replay); record the accepted time step."""
    secret = secret or user.totp_secret
    code = "".join(ch for ch in code if ch.isdigit())
    if not secret or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    for drift in (-1, 0, 1):
        step = int(now // totp.interval) + drift
        if totp.at(step * totp.interval) == code and step > (user.totp_last_step or 0):
            user.totp_last_step = step
            return True
    return False
