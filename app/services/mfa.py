"""Second factor: time-based one-time passwords (RFC 6238) from an authenticator app.

The shared secrets are sealed at rest (Fernet: AES-128-CBC with HMAC-SHA256) under
MFA_ENCRYPTION_KEY, or under a key derived from SECRET_KEY with HKDF.
"""

from __future__ import annotations

import base64
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from app.models import User

ISSUER = "Blue Beret"
SEALED = "fernet:"


def new_secret() -> str:
    """Return a fresh random secret for an authenticator app."""
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """Return the otpauth:// address an authenticator app reads from a QR code."""
    return str(pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER))


def qr_data_uri(uri: str) -> str:
    """Return the QR code of an otpauth:// address as a PNG data URI."""
    return str(segno.make(uri, error="m").png_data_uri(scale=5, border=2))


def _keys() -> MultiFernet:
    configured = [key.strip() for key in current_app.config["MFA_ENCRYPTION_KEY"].split(",")]
    keys = [key for key in configured if key]
    if not keys:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"blue-beret second factor"
        ).derive(current_app.config["SECRET_KEY"].encode())
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def seal(secret: str) -> str:
    """Return a secret encrypted for storage."""
    return SEALED + _keys().encrypt(secret.encode()).decode()


def unseal(stored: str | None) -> str | None:
    """Return the secret from its stored form; None if absent or no key opens it.

    Secrets stored before sealing existed are plain base32 and are read as they are.
    """
    if not stored:
        return None
    if not stored.startswith(SEALED):
        return stored
    try:
        return _keys().decrypt(stored.removeprefix(SEALED).encode()).decode()
    except InvalidToken:
        current_app.logger.error("A second-factor secret cannot be decrypted with the keys set")
        return None


def enable(user: User, secret: str) -> None:
    """Store the person's new secret, sealed."""
    user.totp_secret = seal(secret)


def secret_of(user: User) -> str | None:
    """Return the person's secret in clear."""
    return unseal(user.totp_secret)


def accept(user: User, code: str, secret: str | None = None, now: float | None = None) -> bool:
    """Check a code, refusing one already used (replay); record the accepted time step."""
    secret = secret or secret_of(user)
    code = "".join(ch for ch in code if ch.isdigit())
    if not secret or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    for drift in (-1, 0, 1):
        step = int(now // totp.interval) + drift
        if totp.at(step * totp.interval) == code and step > (user.totp_last_step or 0):
            user.totp_last_step = step
            if user.totp_secret and not user.totp_secret.startswith(SEALED):
                # A secret from before sealing is sealed at its first use.
                user.totp_secret = seal(user.totp_secret)
            return True
    return False
