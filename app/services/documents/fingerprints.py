"""Fingerprints: what a document shows and where its links point, as one SHA-256.

Two renderings with the same fingerprint print the same thing (bar the moment they were
made), so a stored document is served for as long as its fingerprint is what the records
give today. The signing key is not part of it: a document signed with a key that is
still published verifies as well as a new one would (see documents.keeping).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import weasyprint
from flask import current_app

from app.models import Certificate
from app.services import certificates

# Raised when what a fingerprint covers changes, so that every document is made again.
FORMAT = 2


def digest_of(value: Any) -> str:
    """Return the SHA-256 (hex) of a JSON-ready value, written canonically."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def moment(value: date | datetime | None) -> str | None:
    """Return a date or a timestamp as ISO 8601, or None."""
    return value.isoformat() if value is not None else None


def design_version(root: Path) -> str:
    """Return the version of a design folder: its files' contents, and WeasyPrint's."""
    files = sorted(path for path in root.resolve().rglob("*") if path.is_file())
    # Read again only when a file changes (by its size and time), not at every request.
    return _design_version(tuple((path, *_stamp(path)) for path in files))


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


@lru_cache(maxsize=8)
def _design_version(files: tuple[tuple[Path, int, int], ...]) -> str:
    hashed = hashlib.sha256(weasyprint.__version__.encode())
    for path, _size, _time in files:
        hashed.update(path.name.encode() + b"\0" + path.read_bytes())
    return hashed.hexdigest()


def certificate(certificate: Certificate, base_url: str) -> str:
    """Return a certificate's fingerprint: the certificate and the site its links point to.

    What a certificate states is fixed when it is issued; its PDF keeps the design it
    was rendered with.
    """
    return digest_of(
        {
            "format": FORMAT,
            "kind": "certificate",
            "code": certificate.code,
            "base_url": base_url.rstrip("/"),
        }
    )


def listed(certificate: Certificate, now: datetime) -> list[Any]:
    """Return what a record prints and embeds of one certificate, and its state today."""
    c = certificate
    return [
        c.code, c.holder_name, c.service_number, c.module_title, c.module_version,
        moment(c.completed_at), moment(c.expires_at), moment(c.issued_at), moment(c.revoked_at),
        c.attestation, moment(c.attested_at), certificates.status(c, now).value,
        c.delivery_mode.value, c.session_place, moment(c.session_held_on), c.facilitator_name,
    ]  # fmt: skip


def handout(version_id: int, data: dict[str, Any], design: Path) -> str:
    """Return a lesson handout's fingerprint: its module version, what it prints, the design.

    What it prints (title, lesson, sources, language) is part of it, so a translation
    corrected since makes a new handout of the same version.
    """
    return digest_of(
        {
            "format": FORMAT,
            "kind": "handout",
            "version": version_id,
            "language": data["language"],
            "printed": {key: str(value) for key, value in data.items()},
            "design": design_version(design),
        }
    )


def record(content: certificates.RecordContent, now: datetime, base_url: str) -> str:
    """Return a training record's fingerprint: everything it prints and embeds.

    The person, each certificate listed as its credential embeds it and whether it is
    valid today, the modules missing, the design's version, the site its links point to
    and the person's language, which it is written in. Not the day it is issued: a
    record issued yesterday that states what is true today is still right.
    """
    user = content.user
    return digest_of(
        {
            "format": FORMAT,
            "kind": "record",
            "person": [
                user.full_name,
                user.service_number,
                str(user.category),
                user.unit.name if user.unit else "",
                moment(user.deployment_date),
            ],
            "certificates": [listed(c, now) for c in content.held],
            "missing": content.missing,
            "design": design_version(Path(current_app.config["CERTIFICATES_DIR"])),
            "base_url": base_url.rstrip("/"),
            "language": certificates.document_language(user.language),
        }
    )
