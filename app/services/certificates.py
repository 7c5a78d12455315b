"""Certificates: issue them, verify them, and render them to PDF with WeasyPrint."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import segno
import sqlalchemy as sa
import weasyprint
from flask import current_app, has_request_context, request, url_for
from flask_babel import format_date, gettext, ngettext
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from app.extensions import db
from app.models import Certificate, Completion, PersonnelCategory, User
from app.models.types import utcnow
from app.services import attestation, training

# A design folder holds one HTML template and one stylesheet per kind of document.
MODULE_CERTIFICATE = "certificate"
CONSOLIDATED = "consolidated"


class VerifyStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"


def new_code() -> str:
    """Return an unguessable code (80 random bits) that people can read out and type."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def issue(completion: Completion) -> Certificate:
    """Issue the certificate of a completion, recording what it states."""
    user, version = completion.user, completion.module_version
    undertaking = attestation.find(user, version)
    certificate = Certificate(
        completion=completion,
        code=new_code(),
        holder_name=user.full_name,
        service_number=user.service_number,
        category=user.category,
        unit_name=user.unit.name if user.unit else "",
        module_title=version.title,
        module_version=version.label,
        completed_at=completion.completed_at,
        expires_at=completion.expires_at,
        attestation=undertaking.statement if undertaking else None,
        attested_at=undertaking.attested_at if undertaking else None,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def normalise_code(code: str) -> str:
    """Accept a code typed in lower case or without its dashes."""
    compact = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def find(code: str) -> Certificate | None:
    """Return the certificate with this code, if any."""
    return db.session.scalar(sa.select(Certificate).where(Certificate.code == normalise_code(code)))


def status(certificate: Certificate, now: datetime | None = None) -> VerifyStatus:
    """Return whether the certificate is still valid."""
    return (
        VerifyStatus.VALID if certificate.expires_at > (now or utcnow()) else VerifyStatus.EXPIRED
    )


def user_certificates(user_id: int) -> list[Certificate]:
    """Return a person's certificates, newest first."""
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(Completion)
            .where(Completion.user_id == user_id)
            .order_by(Certificate.issued_at.desc())
        )
    )


def current_certificates(user: User) -> list[Certificate]:
    """Return, per mandatory module, the person's latest certificate (valid or not)."""
    module_ids = [version.module_id for version in training.required_versions(user)]
    latest: dict[int, Certificate] = {}
    rows = db.session.execute(
        sa.select(Certificate, Completion.module_id)
        .join(Completion)
        .where(Completion.user_id == user.id, Completion.module_id.in_(module_ids))
        .order_by(Certificate.expires_at)
    )
    for certificate, module_id in rows:
        latest[module_id] = certificate
    return sorted(latest.values(), key=lambda c: c.module_title)


def consolidated_data(user: User, now: datetime | None = None) -> dict[str, Any]:
    """Return the plain values of a person's consolidated certificate.

    Its QR code verifies every certificate it lists at once.
    """
    now = now or utcnow()
    held = current_certificates(user)
    link = verify_set_url([c.code for c in held])
    return {
        "holder_name": user.full_name,
        "service_number": user.service_number,
        "category": PersonnelCategory(user.category).label,
        "unit_name": user.unit.name if user.unit else "",
        "deployment_on": format_date(user.deployment_date, "long")
        if user.deployment_date
        else None,
        "issued_on": format_date(now, "long"),
        "modules": [
            {
                "title": c.module_title,
                "version": c.module_version,
                "completed_on": format_date(c.completed_at, "long"),
                "expires_on": format_date(c.expires_at, "long"),
                "valid": status(c, now) == VerifyStatus.VALID,
                "code": c.code,
                "attestation": c.attestation,
                "attested_on": format_date(c.attested_at, "long") if c.attested_at else None,
            }
            for c in held
        ],
        "missing": sorted(
            {v.title for v in training.required_versions(user)} - {c.module_title for c in held}
        ),
        "verify_url": link,
        "qr": qr_data_uri(link),
    }


def find_for_user(code: str, user_id: int) -> Certificate | None:
    """Return the certificate with this code only if it belongs to the person."""
    return db.session.scalar(
        sa.select(Certificate)
        .join(Completion)
        .where(Certificate.code == normalise_code(code), Completion.user_id == user_id)
    )


def public_url(path: str) -> str:
    """Return an absolute address on the public site (PUBLIC_BASE_URL, else this request's)."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    if not base:
        base = str(request.host_url).rstrip("/") if has_request_context() else "http://localhost"
    return base + path


def verify_url(code: str) -> str:
    """Return the public address that verifies one certificate."""
    return public_url(url_for("public.verify", code=code))


def verify_set_url(codes: list[str]) -> str:
    """Return the public address that verifies several certificates at once."""
    return public_url(url_for("public.verify_set", codes=",".join(codes)))


# Rendering ---------------------------------------------------------------------------


class AssetFetcher(URLFetcher):
    """Serve only files inside the certificate design folder and inline data: images."""

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=False)
        self.root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                return URLFetcherResponse(url, path.read_bytes(), status=200)
        raise ValueError(f"certificates may only use their own assets, not {url}")


@dataclass(frozen=True)
class Design:
    """A certificate design loaded once: template, parsed CSS and fonts."""

    root: Path
    template: jinja2.Template
    stylesheet: weasyprint.CSS
    fonts: FontConfiguration
    fetcher: AssetFetcher


@lru_cache(maxsize=8)
def load_design(root: Path, kind: str = MODULE_CERTIFICATE) -> Design:
    """Parse a design's template and stylesheet once per process."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(root),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    environment.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    fonts = FontConfiguration()
    fetcher = AssetFetcher(root)
    stylesheet = weasyprint.CSS(
        filename=str(root / f"{kind}.css"), font_config=fonts, url_fetcher=fetcher
    )
    return Design(root, environment.get_template(f"{kind}.html"), stylesheet, fonts, fetcher)


def qr_data_uri(url: str) -> str:
    """Return the QR code of a URL as a PNG data URI (faster to lay out than SVG)."""
    return str(segno.make(url, error="m").png_data_uri(scale=4, border=2))


def document_data(certificate: Certificate) -> dict[str, Any]:
    """Return the plain values a certificate design shows."""
    link = verify_url(certificate.code)
    return {
        "holder_name": certificate.holder_name,
        "service_number": certificate.service_number,
        "category": PersonnelCategory(certificate.category).label,
        "unit_name": certificate.unit_name,
        "module_title": certificate.module_title,
        "module_version": certificate.module_version,
        "completed_on": format_date(certificate.completed_at, "long"),
        "expires_on": format_date(certificate.expires_at, "long"),
        "code": certificate.code,
        "attestation": certificate.attestation,
        "attested_on": format_date(certificate.attested_at, "long")
        if certificate.attested_at
        else None,
        "verify_url": link,
        "qr": qr_data_uri(link),
    }


def render_pdf(design_root: Path, data: dict[str, Any], kind: str = MODULE_CERTIFICATE) -> bytes:
    """Render one document to PDF with the design's cached CSS and fonts."""
    design = load_design(design_root.resolve(), kind)
    html = weasyprint.HTML(
        string=design.template.render(**data),
        base_url=design.root.as_uri() + "/",
        url_fetcher=design.fetcher,
    )
    pdf = html.write_pdf(stylesheets=[design.stylesheet], font_config=design.fonts)
    assert pdf is not None
    return bytes(pdf)
