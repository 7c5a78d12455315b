"""Certificates and training records as archival PDFs, rendered with WeasyPrint.

WeasyPrint gets plain values and a URL fetcher that serves only the design's own assets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import segno
import sqlalchemy as sa
import weasyprint
from flask_babel import gettext
from markupsafe import Markup
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from app.extensions import db
from app.models import Certificate, ModuleTranslation, ModuleVersion, PersonnelCategory, User
from app.models.types import utcnow
from app.services import signing
from app.services.certificates import wording
from app.services.certificates.claims import certificate_claim, record_claim
from app.services.certificates.credentials import module_credential, record_credential
from app.services.certificates.issuing import VerifyStatus, current_certificates, status
from app.services.certificates.links import signed_verify_url, verify_set_url, verify_url
from app.services.certificates.wording import alongside, document_language, in_english, written_in
from app.services.content import published
from app.services.content.published import ModuleContent
from app.services.links import site_url

# A design folder holds one HTML template and one stylesheet per kind of document.
MODULE_CERTIFICATE = "certificate"
CONSOLIDATED = "consolidated"
# The credential embedded in a PDF.
CREDENTIAL_FILENAME = "credential.json"
# Every PDF is archival: PDF/A-3, which allows the credential to be attached.
PDF_VARIANT = "pdf/a-3b"


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
        undefined=jinja2.StrictUndefined,
    )
    environment.globals.update(wording.design_globals())
    fonts = FontConfiguration()
    fetcher = AssetFetcher(root)
    stylesheet = weasyprint.CSS(
        filename=str(root / f"{kind}.css"), font_config=fonts, url_fetcher=fetcher
    )
    return Design(root, environment.get_template(f"{kind}.html"), stylesheet, fonts, fetcher)


def qr_data_uri(url: str) -> str:
    """Return the QR code of a URL as a PNG data URI (faster to lay out than SVG)."""
    # A fixed mask: choosing the best of eight costs more than rendering the page. One
    # pixel per module: the designs draw it `image-rendering: pixelated` (no smoothing in
    # the PDF), so it prints as sharp as a larger image, and writing it costs a third.
    return str(segno.make(url, error="m", mask=0).png_data_uri(scale=1, border=2))


def document_data(certificate: Certificate, base_url: str | None = None) -> dict[str, Any]:
    """Return the values a certificate design shows, with its signed credential.

    In the language the quiz was taken in, with English alongside (see `wording`).
    """
    base_url = base_url or site_url()
    link = verify_url(certificate.code, base_url)
    payload = signing.sign(certificate_claim(certificate), signing.signing_key())
    signed_link = signed_verify_url(certificate, payload, base_url)
    # The holder's language if they chose one, else the one they took the quiz in.
    language = document_language(
        certificate.completion.user.language or certificate.completion.language
    )
    # The credential is for machines: in English, whoever prints it.
    with written_in(wording.ENGLISH):
        credential = module_credential(certificate, payload, signed_link, base_url)
    with written_in(language):
        titles = translated_titles([certificate.completion.module_version_id], language)
        return {
            "language": language,
            "direction": wording.direction(language),
            "holder_name": certificate.holder_name,
            "service_number": certificate.service_number,
            "category": category_label(certificate.category),
            "unit_name": certificate.unit_name,
            "module_title": alongside(
                titles.get(certificate.completion.module_version_id, certificate.module_title),
                certificate.module_title,
            ),
            "module_version": certificate.module_version,
            "completed_on": certificate.completed_at,
            "expires_on": certificate.expires_at,
            "code": certificate.code,
            "attestation": certificate.attestation,
            "attested_on": certificate.attested_at,
            **session_lines(certificate),
            "facilitator_name": certificate.facilitator_name,
            "revoked_on": certificate.revoked_at,
            "verify_url": link,
            "signed_verify_url": signed_link,
            "qr": qr_data_uri(signed_link),
            "credential": credential,
        }


def session_lines(certificate: Certificate) -> dict[str, Any]:
    """Return what a design prints of how a certificate was earned: online, or where and when."""
    return {
        "delivery_mode": certificate.delivery_mode.value,
        "session_place": certificate.session_place,
        "session_held_on": certificate.session_held_on,
    }


def category_label(category: str) -> Markup:
    """Return a personnel category's name in the document's language and in English."""
    label = PersonnelCategory(category).label
    return alongside(str(label), in_english(label))


def translated_titles(version_ids: Sequence[int], language: str) -> dict[int, str]:
    """Return the titles of module versions in `language`, where a complete translation has one."""
    if language == wording.ENGLISH or not version_ids:
        return {}
    rows = db.session.execute(
        sa.select(ModuleTranslation.module_version_id, ModuleTranslation.title).where(
            ModuleTranslation.language == language,
            ModuleTranslation.complete,
            ModuleTranslation.module_version_id.in_(version_ids),
        )
    )
    return {version_id: title for version_id, title in rows if title}


@dataclass(frozen=True)
class RecordContent:
    """What a person's training record lists: their latest certificates, and what is missing."""

    user: User
    held: list[Certificate]
    missing: list[str]
    # The person's mandatory modules, whose titles name the modules in other languages.
    versions: Sequence[ModuleVersion | ModuleContent] = ()


def record_content(
    user: User, versions: Sequence[ModuleVersion | ModuleContent] | None = None
) -> RecordContent:
    """Look up what a person's training record lists (`versions`: their mandatory modules).

    Their mandatory modules are read from the published content unless given.
    """
    if versions is None:
        versions = published.required_versions(user)
    held = current_certificates(user, versions)
    return record_content_of(user, versions, held)


def record_content_of(
    user: User, versions: Sequence[ModuleVersion | ModuleContent], held: list[Certificate]
) -> RecordContent:
    """Return what a record lists, from the person's mandatory modules and latest certificates."""
    missing = sorted({v.title for v in versions} - {c.module_title for c in held})
    return RecordContent(user, held, missing, versions)


def consolidated_data(
    user: User,
    now: datetime | None = None,
    base_url: str | None = None,
    content: RecordContent | None = None,
) -> dict[str, Any]:
    """Return the plain values of a person's consolidated certificate.

    Its QR code verifies every certificate it lists at once; its signature covers the
    person's name and every module listed. `content`, if given, is what it lists,
    already looked up.
    """
    now = now or utcnow()
    base_url = base_url or site_url()
    content = content or record_content(user)
    held = content.held
    codes = [c.code for c in held]
    claim = record_claim(user.full_name, held)
    payload = signing.sign(claim, signing.signing_key())
    link = verify_set_url(codes, base_url=base_url)
    signed_link = verify_set_url(codes, payload, base_url)
    language = document_language(user.language)
    with written_in(wording.ENGLISH):
        credential = record_credential(user, held, payload, signed_link, now, base_url)
    with written_in(language):
        by_id = translated_titles([v.id for v in content.versions], language)
        titles = {v.title: by_id[v.id] for v in content.versions if v.id in by_id}

        def title(english: str) -> Markup:
            return alongside(titles.get(english, english), english)

        return {
            "language": language,
            "direction": wording.direction(language),
            "holder_name": user.full_name,
            "service_number": user.service_number,
            "category": category_label(user.category),
            "unit_name": user.unit.name if user.unit else "",
            "deployment_on": user.deployment_date,
            "issued_on": now,
            "modules": [
                {
                    "title": title(c.module_title),
                    "version": c.module_version,
                    "completed_on": c.completed_at,
                    "expires_on": c.expires_at,
                    "valid": status(c, now) == VerifyStatus.VALID,
                    "status": status(c, now).value,
                    "revoked_on": c.revoked_at,
                    "code": c.code,
                    "attestation": c.attestation,
                    "attested_on": c.attested_at,
                    **session_lines(c),
                }
                for c in held
            ],
            "missing": [title(english) for english in content.missing],
            "verify_url": link,
            "signed_verify_url": signed_link,
            "qr": qr_data_uri(signed_link),
            "credential": credential,
        }


def render_pdf(
    design_root: Path,
    data: dict[str, Any],
    kind: str = MODULE_CERTIFICATE,
    *,
    credential: dict[str, Any] | None = None,
) -> bytes:
    """Render one document to archival PDF/A-3b with the design's cached CSS and fonts.

    The credential (by default `data["credential"]`, as document_data and
    consolidated_data give it) is embedded as a JSON attachment.
    """
    return render_counted(design_root, data, kind, credential=credential)[0]


def render_counted(
    design_root: Path,
    data: dict[str, Any],
    kind: str = MODULE_CERTIFICATE,
    *,
    credential: dict[str, Any] | None = None,
) -> tuple[bytes, int]:
    """Render one document as render_pdf does; return it and its number of pages."""
    credential = credential if credential is not None else data.get("credential")
    design = load_design(design_root.resolve(), kind)
    with _rendering:
        return _render(design, [data], kind, credential, None)


def render_documents(
    design_root: Path,
    documents: Sequence[dict[str, Any]],
    kind: str = MODULE_CERTIFICATE,
    *,
    credential: dict[str, Any] | None = None,
    title: str | None = None,
) -> bytes:
    """Render documents, each on pages of its own, into one archival PDF/A-3b.

    Written once, so the pages share their fonts. A credential, if given, is embedded as
    a JSON attachment; a title, if given, names the file in its metadata.
    """
    design = load_design(design_root.resolve(), kind)
    # One at a time in a process: the cached design (its fonts above all) is shared, and
    # WeasyPrint does not promise it can be used by two threads at once. Several
    # processes render side by side.
    with _rendering:
        return _render(design, documents, kind, credential, title)[0]


_rendering = threading.Lock()


def _render(
    design: Design,
    documents: Sequence[dict[str, Any]],
    kind: str,
    credential: dict[str, Any] | None,
    title: str | None,
) -> tuple[bytes, int]:
    options: dict[str, Any] = {
        "pdf_variant": PDF_VARIANT,
        "attachments": [credential_attachment(design, credential)] if credential else [],
    }
    layouts = []
    for data in documents:
        with written_in(data.get("language", wording.ENGLISH)):
            page = design.template.render(**data)
        layouts.append(
            weasyprint.HTML(
                string=page, base_url=design.root.as_uri() + "/", url_fetcher=design.fetcher
            ).render(stylesheets=[design.stylesheet], font_config=design.fonts, **options)
        )
    document = layouts[0].copy([page for layout in layouts for page in layout.pages])
    if title is not None:
        document.metadata.title = title
    pdf = document.write_pdf(**options)
    assert pdf is not None
    return bytes(pdf), len(document.pages)


def credential_attachment(design: Design, credential: dict[str, Any]) -> weasyprint.Attachment:
    """Return a credential as the JSON attachment PDF/A-3 allows."""
    now = utcnow()
    return weasyprint.Attachment(
        string=json.dumps(credential, ensure_ascii=False, indent=2).encode(),
        url_fetcher=design.fetcher,
        name=CREDENTIAL_FILENAME,
        description=gettext("The achievement as an Open Badges credential (JSON)"),
        created=now,
        modified=now,
        relationship="Data",
    )
