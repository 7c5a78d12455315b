"""Ed25519 signatures over what certificates state, verifiable offline with the public key.

A signed payload is `base64url(claim).base64url(signature)`, where the claim is the
canonical JSON (sorted keys, no spaces, UTF-8) of what the certificate states:

- one certificate: {"c": code, "n": name, "m": [[title, version]],
  "d": completed, "e": expires, "k": key id}
- a person's record: {"n": name, "m": [[title, version, code, completed, expires], ...],
  "k": key id}

Dates are ISO 8601 basic dates (YYYYMMDD) to keep QR codes small. The key id is the
first 8 hex digits of the SHA-256 of the raw public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

from config import create_once

DEV_KEY_FILENAME = "certificate-signing-key.pem"
SIGNATURE_LENGTH = 64
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

PublicKeys = Mapping[str, Ed25519PublicKey]


class SigningKeyError(ValueError):
    """A key cannot be loaded; the message says which and why."""


@dataclass(frozen=True)
class SigningKey:
    """The private key certificates are signed with, and its key id."""

    kid: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        """Return the public half of the key."""
        return self.private.public_key()


@dataclass(frozen=True)
class Entry:
    """One module a claim states: which certificate, which module version, which dates."""

    code: str
    title: str
    version: str
    completed: date
    expires: date


@dataclass(frozen=True)
class Claim:
    """What a signature vouches for: a name and one module (a certificate) or several (a record)."""

    name: str
    entries: tuple[Entry, ...]
    single: bool = True


class Problem(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a signed payload: the claim when the signature holds."""

    claim: Claim | None
    kid: str | None
    problem: Problem | None

    @property
    def valid(self) -> bool:
        """Return whether the signature is genuine."""
        return self.problem is None


# Encoding ----------------------------------------------------------------------------


def b64encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode unpadded base64url strictly; raise ValueError on anything else."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error as error:
        raise ValueError("not base64url") from error


def canonical_json(value: Any) -> bytes:
    """Return the deterministic JSON encoding signatures are made over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compact_date(value: date | datetime) -> str:
    """Return a date in ISO 8601 basic format (YYYYMMDD)."""
    return (value.date() if isinstance(value, datetime) else value).strftime("%Y%m%d")


def parse_compact_date(value: Any) -> date:
    """Read a YYYYMMDD date; raise ValueError otherwise."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{8}", value):
        raise ValueError("not a date")
    return datetime.strptime(value, "%Y%m%d").date()


def claim_document(claim: Claim, kid: str) -> dict[str, Any]:
    """Return the JSON shape of a claim signed with the key `kid`."""
    if claim.single:
        (entry,) = claim.entries
        return {
            "c": entry.code,
            "n": claim.name,
            "m": [[entry.title, entry.version]],
            "d": compact_date(entry.completed),
            "e": compact_date(entry.expires),
            "k": kid,
        }
    return {
        "n": claim.name,
        "m": [
            [e.title, e.version, e.code, compact_date(e.completed), compact_date(e.expires)]
            for e in claim.entries
        ],
        "k": kid,
    }


def _strings(values: Any, length: int) -> list[str]:
    if not isinstance(values, list) or len(values) != length:
        raise ValueError("wrong shape")
    if not all(isinstance(value, str) for value in values):
        raise ValueError("wrong shape")
    return values


def read_claim(document: Any) -> tuple[Claim, str]:
    """Return the claim and key id a decoded JSON document states; raise ValueError if malformed."""
    if not isinstance(document, dict):
        raise ValueError("wrong shape")
    name, kid, modules = document.get("n"), document.get("k"), document.get("m")
    if not isinstance(name, str) or not isinstance(kid, str) or not isinstance(modules, list):
        raise ValueError("wrong shape")
    if "c" in document:
        if set(document) != {"c", "n", "m", "d", "e", "k"} or len(modules) != 1:
            raise ValueError("wrong shape")
        title, version = _strings(modules[0], 2)
        code = document["c"]
        if not isinstance(code, str):
            raise ValueError("wrong shape")
        entry = Entry(
            code,
            title,
            version,
            parse_compact_date(document["d"]),
            parse_compact_date(document["e"]),
        )
        return Claim(name, (entry,), single=True), kid
    if set(document) != {"n", "m", "k"}:
        raise ValueError("wrong shape")
    entries = []
    for values in modules:
        title, version, code, completed, expires = _strings(values, 5)
        entries.append(
            Entry(code, title, version, parse_compact_date(completed), parse_compact_date(expires))
        )
    return Claim(name, tuple(entries), single=False), kid


# Signing and verifying ---------------------------------------------------------------


def sign(claim: Claim, key: SigningKey) -> str:
    """Return the compact signed payload of a claim."""
    body = canonical_json(claim_document(claim, key.kid))
    return b64encode(body) + "." + b64encode(key.private.sign(body))


def verify(payload: str, keys: PublicKeys) -> Verification:
    """Check a signed payload against public keys only; say what it states if genuine."""
    try:
        body_text, signature_text = payload.strip().split(".")
        body, signature = b64decode(body_text), b64decode(signature_text)
        document = json.loads(body.decode("utf-8"))
        claim, kid = read_claim(document)
    except ValueError:  # covers JSON and UTF-8 errors too
        return Verification(None, None, Problem.MALFORMED)
    if canonical_json(document) != body or len(signature) != SIGNATURE_LENGTH:
        return Verification(None, kid, Problem.MALFORMED)
    public = keys.get(kid)
    if public is None:
        return Verification(None, kid, Problem.UNKNOWN_KEY)
    try:
        public.verify(signature, body)
    except InvalidSignature:
        return Verification(None, kid, Problem.BAD_SIGNATURE)
    return Verification(claim, kid, None)


def sign_document(document: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """Return a JSON document with a detached signature over its other fields."""
    unsigned = {**document, "kid": key.kid}
    unsigned.pop("signature", None)
    signature = key.private.sign(canonical_json(unsigned))
    return {**unsigned, "signature": b64encode(signature)}


def verify_document(document: Any, keys: PublicKeys) -> bool:
    """Return whether a JSON document's detached signature is genuine."""
    if not isinstance(document, dict):
        return False
    unsigned = {name: value for name, value in document.items() if name != "signature"}
    public = keys.get(str(document.get("kid")))
    try:
        signature = b64decode(str(document.get("signature", "")))
        if public is None:
            return False
        public.verify(signature, canonical_json(unsigned))
    except (ValueError, InvalidSignature):
        return False
    return True


# Keys --------------------------------------------------------------------------------


def key_id(public: Ed25519PublicKey) -> str:
    """Return the short id of a public key: 8 hex digits of the SHA-256 of its raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:8]


def generate_private_pem() -> bytes:
    """Return a new Ed25519 private key as unencrypted PKCS#8 PEM."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(public: Ed25519PublicKey) -> str:
    """Return a public key as SubjectPublicKeyInfo PEM."""
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def private_key_from_pem(data: bytes, source: str) -> SigningKey:
    """Load an Ed25519 private key from PEM bytes, naming `source` in any error."""
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"{source} is not an unencrypted PEM private key: {error}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{source} is not an Ed25519 key.")
    return SigningKey(key_id(private.public_key()), private)


def load_private_key(value: str) -> SigningKey:
    """Load the signing key from PEM text or from the path of a PEM file."""
    if value.lstrip().startswith("-----BEGIN"):
        return private_key_from_pem(value.strip().encode(), "CERTIFICATE_SIGNING_KEY")
    path = Path(value).expanduser()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningKeyError(f"Cannot read the signing key {path}: {error.strerror}.") from None
    return private_key_from_pem(data, str(path))


_PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)


def public_keys_from_bytes(data: bytes, source: str) -> dict[str, Ed25519PublicKey]:
    """Read public keys from a JWKS document or from one or more PEM blocks."""
    keys: dict[str, Ed25519PublicKey] = {}
    if data.lstrip().startswith(b"{"):
        try:
            document = json.loads(data)
            entries = document["keys"]
            for entry in entries:
                if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
                    continue
                public = Ed25519PublicKey.from_public_bytes(b64decode(entry["x"]))
                keys[key_id(public)] = public
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise SigningKeyError(f"{source} is not a JWKS file of Ed25519 keys: {error}") from None
    else:
        for block in _PEM_BLOCK.findall(data):
            try:
                loaded = serialization.load_pem_public_key(block)
            except ValueError:
                # A private key stands for its public half.
                private = private_key_from_pem(block, source)
                keys[private.kid] = private.public
                continue
            if not isinstance(loaded, Ed25519PublicKey):
                raise SigningKeyError(f"{source} holds a key that is not Ed25519.")
            keys[key_id(loaded)] = loaded
    if not keys:
        raise SigningKeyError(f"{source} holds no Ed25519 public key.")
    return keys


def load_public_keys(path: str | Path) -> dict[str, Ed25519PublicKey]:
    """Read the public keys of a PEM or JWKS file."""
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningKeyError(
            f"Cannot read the public key file {path}: {error.strerror}."
        ) from None
    return public_keys_from_bytes(data, str(path))


def previous_public_keys(value: str) -> dict[str, Ed25519PublicKey]:
    """Read CERTIFICATE_PREVIOUS_PUBLIC_KEYS: comma-separated paths of PEM or JWKS files."""
    keys: dict[str, Ed25519PublicKey] = {}
    for path in (part.strip() for part in value.split(",")):
        if path:
            keys.update(load_public_keys(path))
    return keys


def development_key(instance_path: str) -> SigningKey:
    """Return the development key under instance/, creating it once (never in production)."""
    path = Path(instance_path) / DEV_KEY_FILENAME
    create_once(path, generate_private_pem)
    return load_private_key(str(path))


@lru_cache(maxsize=8)
def _configured_key(value: str, instance_path: str) -> SigningKey:
    return load_private_key(value) if value else development_key(instance_path)


@lru_cache(maxsize=8)
def _previous_keys(value: str) -> dict[str, Ed25519PublicKey]:
    return previous_public_keys(value)


def signing_key() -> SigningKey:
    """Return the application's signing key (CERTIFICATE_SIGNING_KEY, else the development one).

    ProductionConfig refuses to start without CERTIFICATE_SIGNING_KEY, so the
    development key is never used in production.
    """
    return _configured_key(
        str(current_app.config.get("CERTIFICATE_SIGNING_KEY") or ""), current_app.instance_path
    )


def public_keys(create: bool = True) -> dict[str, Ed25519PublicKey]:
    """Return every public key certificates may be signed with, the current key first.

    With `create` false, a development key that does not exist yet is not created.
    """
    configured = str(current_app.config.get("CERTIFICATE_SIGNING_KEY") or "")
    keys: dict[str, Ed25519PublicKey] = {}
    dev_key = Path(current_app.instance_path) / DEV_KEY_FILENAME
    if configured or create or dev_key.exists():
        current = signing_key()
        keys[current.kid] = current.public
    previous = _previous_keys(str(current_app.config.get("CERTIFICATE_PREVIOUS_PUBLIC_KEYS") or ""))
    return {**keys, **{kid: key for kid, key in previous.items() if kid not in keys}}


def jwk(kid: str, public: Ed25519PublicKey) -> dict[str, str]:
    """Return a public key as a JSON Web Key (OKP, Ed25519)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64encode(raw), "kid": kid, "alg": "EdDSA",
            "use": "sig"}  # fmt: skip


def jwks(keys: PublicKeys) -> dict[str, list[dict[str, str]]]:
    """Return public keys as a JWKS document."""
    return {"keys": [jwk(kid, public) for kid, public in keys.items()]}
