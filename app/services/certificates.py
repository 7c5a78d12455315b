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
from flask_babel import format_date, gettext, ngettext
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from app.extensions import db
from app.models import Certificate, Completion, PersonnelCategory
from app.models.types import utcnow
from app.services import attestation

TEMPLATE = "certificate.html"
STYLESHEET = "certificate.css"


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


def find_for_user(code: str, user_id: int) -> Certificate | None:
    """Return the certificate with this code only if it belongs to the person."""
    return db.session.scalar(
        sa.select(Certificate)
        .join(Completion)
        .where(Certificate.code == normalise_code(code), Completion.user_id == user_id)
    )


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


@lru_cache(maxsize=4)
def load_design(root: Path) -> Design:
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
        filename=str(root / STYLESHEET), font_config=fonts, url_fetcher=fetcher
    )
    return Design(root, environment.get_template(TEMPLATE), stylesheet, fonts, fetcher)


def qr_data_uri(url: str) -> str:
    """Return the QR code of a URL as a PNG data URI (faster to lay out than SVG)."""
    return str(segno.make(url, error="m").png_data_uri(scale=4, border=2))


def document_data(certificate: Certificate, verify_url: str) -> dict[str, Any]:
    """Return the plain values a certificate design shows."""
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
        "verify_url": verify_url,
        "qr": qr_data_uri(verify_url),
    }


def render_pdf(design_root: Path, data: dict[str, Any]) -> bytes:
    """Render one certificate to PDF with the design's cached CSS and fonts."""
    design = load_design(design_root.resolve())
    html = weasyprint.HTML(
        string=design.template.render(**data),
        base_url=design.root.as_uri() + "/",
        url_fetcher=design.fetcher,
    )
    pdf = html.write_pdf(stylesheets=[design.stylesheet], font_config=design.fonts)
    assert pdf is not None
    return bytes(pdf)
