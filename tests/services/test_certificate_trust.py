"""Certificates anyone can trust: archival PDFs, names in every script, signatures, revocation."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
import unicodedata
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from flask_babel import format_date
from pypdf import PdfReader

from app import create_app
from app.models import (
    AuditAction,
    AuditEntry,
    Certificate,
    Completion,
    Mission,
    Role,
    TrainingRecord,
    Unit,
)
from app.models.types import utcnow
from app.services import certificates, reporting, signing, training
from config import ConfigError, ProductionConfig
from tests.fixtures import TestingConfig, count, pass_module, post, shown_day

ARABIC = "فاطمة الزهراء"
NAMES = {
    "arabic": ARABIC,
    "cyrillic": "Ольга Петрова",
    "chinese": "王秀英",
    "accented-spanish": "José Núñez",
    "accented-french": "Aïcha Traoré",
}
# The font each script must be printed in (part of the embedded font's name).
FONTS = {
    "arabic": "Noto-Naskh-Arabic",
    "cyrillic": "DejaVu-Serif",
    "chinese": "WenQuanYi-Micro-Hei",
    "accented-spanish": "DejaVu-Serif",
    "accented-french": "DejaVu-Serif",
}
REASON = "Misconduct finding by the board of inquiry, case 2026-114."


# Fixtures and helpers -----------------------------------------------------------------


def write_key(path: Path) -> signing.SigningKey:
    """Write a new private key to a file and return it."""
    pem = signing.generate_private_pem()
    path.write_bytes(pem)
    return signing.private_key_from_pem(pem, str(path))


@pytest.fixture
def key(app, tmp_path, monkeypatch):
    """The signing key the application is configured with for this test."""
    signing_key = write_key(tmp_path / "signing-key.pem")
    monkeypatch.setitem(app.config, "CERTIFICATE_SIGNING_KEY", str(tmp_path / "signing-key.pem"))
    monkeypatch.setitem(app.config, "CERTIFICATE_PREVIOUS_PUBLIC_KEYS", "")
    return signing_key


@pytest.fixture
def org(db, unit, modules, make_user):
    """A coordinator of unit A, and a person with a certificate in unit A and in unit C."""
    mission = db.session.get(Mission, unit.mission_id)
    other = Unit(mission=mission, code="UNIT-C", name="Unit C", country="Peru")
    db.session.add(other)
    db.session.commit()
    mine = make_user(full_name="Amina Haddad")
    theirs = make_user(full_name="Umar Other", unit=other)
    return {
        "coordinator": make_user(Role.COORDINATOR, assigned_units=[unit]),
        "mine": pass_module(mine),
        "theirs": pass_module(theirs),
        "holder": mine,
    }


def render_certificate(app, certificate) -> bytes:
    with app.test_request_context():
        return certificates.render_pdf(
            app.config["CERTIFICATES_DIR"], certificates.document_data(certificate)
        )


def pdf_text(pdf: bytes, tmp_path: Path, *options: str) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_fonts(pdf: bytes) -> dict[str, bool]:
    """Return every font a PDF uses, by name, and whether its glyphs are embedded."""
    fonts: dict[str, bool] = {}

    def walk(resources) -> None:
        resources = resources.get_object() if resources else {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            if font["/Subtype"] == "/Type3":
                fonts[str(font.get("/Name", "Type3"))] = True  # glyphs drawn in the PDF itself
                continue
            described = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = described.get("/FontDescriptor")
            fonts[str(font["/BaseFont"])] = descriptor is not None and any(
                name in descriptor.get_object()
                for name in ("/FontFile", "/FontFile2", "/FontFile3")
            )
        for xobject in (resources.get("/XObject") or {}).values():
            walk(xobject.get_object().get("/Resources"))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        walk(page.get("/Resources"))
    return fonts


def credential_of(pdf: bytes) -> dict:
    attachments = PdfReader(io.BytesIO(pdf)).attachments
    assert list(attachments) == [certificates.CREDENTIAL_FILENAME]
    (content,) = attachments[certificates.CREDENTIAL_FILENAME]
    return json.loads(content)


def payload_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["s"][0]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def forge(payload: str, change) -> str:
    """Change what a payload states while keeping its signature, as a forger would."""
    body, signature = payload.split(".")
    document = json.loads(signing.b64decode(body))
    change(document)
    return signing.b64encode(signing.canonical_json(document)) + "." + signature


def run_cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["certificates", *args])


# Names in every script --------------------------------------------------------------


@pytest.mark.parametrize("script", list(NAMES))
def test_names_in_every_script_print_with_an_embedded_font_for_it(
    app, db, modules, make_user, key, tmp_path, script
):
    name = NAMES[script]
    pdf = render_certificate(app, pass_module(make_user(full_name=name)))
    text = pdf_text(pdf, tmp_path)
    if script == "arabic":
        # pdftotext may give right-to-left text in logical or visual order and wrap it in
        # directional marks: compare the words and the letters, not the whole line.
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
        assert all(word in text for word in name.split()), text
        arabic_in_text = {ch for ch in text if "\u0600" <= ch <= "\u06ff"}
        assert set(name.replace(" ", "")) <= arabic_in_text
    else:
        assert name in text
    fonts = pdf_fonts(pdf)
    assert any(FONTS[script] in font for font in fonts), fonts
    assert all(fonts.values()), fonts


# PDF/A-3b and the embedded credential -------------------------------------------------


def test_certificate_is_pdfa3b_with_every_font_embedded_and_its_credential_attached(
    client, db, modules, make_user, login, key
):
    user = make_user(full_name="Aïcha Traoré", service_number="ML-3310")
    certificate = pass_module(user)
    pdf = login(user).get(f"/training/certificates/{certificate.code}.pdf").data

    reader = PdfReader(io.BytesIO(pdf))
    assert reader.xmp_metadata.pdfaid_part == "3"
    assert reader.xmp_metadata.pdfaid_conformance == "B"
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert reader.trailer["/Root"]["/AF"], "the attachment must be declared for PDF/A-3"
    fonts = pdf_fonts(pdf)
    assert fonts and all(fonts.values()), fonts

    credential = credential_of(pdf)
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == f"https://training.example.org/verify/{certificate.code}"
    assert credential["issuer"]["id"] == "https://training.example.org/"
    assert "Blue Beret" in credential["issuer"]["name"]
    subject = credential["credentialSubject"]
    identities = {i["identityType"]: i["identityHash"] for i in subject["identifier"]}
    assert identities == {"name": "Aïcha Traoré", "identifier": "ML-3310"}
    assert subject["achievement"]["name"] == "Conduct basics"
    assert subject["achievement"]["version"] == "1.0"
    assert subject["achievement"]["id"].startswith("urn:uuid:")
    assert credential["validFrom"] == certificates.timestamp(certificate.completed_at)
    assert credential["validUntil"] == certificates.timestamp(certificate.expires_at)
    assert credential["credentialStatus"]["id"] == (
        "https://training.example.org/certificates/revoked.json"
    )
    proof = credential["blueBeretSignature"]
    verified = signing.verify(proof["payload"], {key.kid: key.public})
    assert verified.valid and verified.claim.name == "Aïcha Traoré"
    assert proof["verificationMethod"].endswith(f"/.well-known/blue-beret-keys.json#{key.kid}")


def test_training_record_is_pdfa3b_with_a_credential_listing_every_achievement(
    app, client, db, modules, make_user, login, key, tmp_path
):
    user = make_user(full_name="王秀英")
    basics = pass_module(user, "basics")
    other = pass_module(user, "pledge")
    pdf = login(user).get("/training/record.pdf").data

    reader = PdfReader(io.BytesIO(pdf))
    assert (reader.xmp_metadata.pdfaid_part, reader.xmp_metadata.pdfaid_conformance) == ("3", "B")
    fonts = pdf_fonts(pdf)
    assert all(fonts.values()) and any("WenQuanYi" in font for font in fonts), fonts
    assert "王秀英" in pdf_text(pdf, tmp_path)

    credential = credential_of(pdf)
    assert "ClrCredential" in credential["type"]
    subject = credential["credentialSubject"]
    assert {a["name"] for a in subject["achievement"]} == {
        basics.module_title,
        other.module_title,
    }
    assert {c["id"].rsplit("/", 1)[1] for c in subject["verifiableCredential"]} == {
        basics.code,
        other.code,
    }
    claim = signing.verify(credential["blueBeretSignature"]["payload"], {key.kid: key.public}).claim
    assert claim is not None and claim.name == "王秀英"
    assert {entry.code for entry in claim.entries} == {basics.code, other.code}


# Signed QR codes -----------------------------------------------------------------------


def test_qr_code_holds_the_verify_url_with_a_signature_and_stays_small(
    app, db, modules, make_user, key
):
    certificate = pass_module(make_user(full_name="Bishnu Prasad Adhikari Chhetri"))
    certificate.module_title = "Standards of conduct and the peacekeeper's duty of care"
    with app.test_request_context():
        data = certificates.document_data(certificate)
    url = data["signed_verify_url"]
    assert url.startswith(f"https://training.example.org/verify/{certificate.code}?s=")
    assert data["qr"] == certificates.qr_data_uri(url)
    claim = signing.verify(payload_of(url), {key.kid: key.public}).claim
    assert claim == certificates.certificate_claim(certificate)
    # A phone camera must still read it from paper: version 15 is 77 modules wide.
    assert segno.make(url, error="m").version <= 15


def test_signature_round_trip_states_what_the_certificate_states(app, db, modules, make_user, key):
    certificate = pass_module(make_user(full_name="Ольга Петрова"))
    payload = signing.sign(certificates.certificate_claim(certificate), key)
    verification = signing.verify(payload, {key.kid: key.public})
    assert verification.valid and verification.kid == key.kid
    (entry,) = verification.claim.entries
    assert verification.claim.name == "Ольга Петрова"
    assert entry.code == certificate.code and entry.title == "Conduct basics"
    assert entry.completed == certificate.completed_at.date()
    assert entry.expires == certificate.expires_at.date()
    assert "." in payload and all(ch.isalnum() or ch in "-_." for ch in payload)


def _changed_name(document):
    document["n"] = "Someone Else"


def _changed_date(document):
    document["e"] = "20991231"


FORGERIES = {
    "changed name": lambda payload, key, other: forge(payload, _changed_name),
    "changed expiry date": lambda payload, key, other: forge(payload, _changed_date),
    "truncated": lambda payload, key, other: payload[: len(payload) - 10],
    "body only": lambda payload, key, other: payload.split(".")[0],
    "signed with another key": lambda payload, key, other: other,
    "another key posing as ours": lambda payload, key, other: (
        payload.split(".")[0] + "." + other.split(".")[1]
    ),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forged_or_damaged_payload_fails_in_the_service_and_the_command(
    app, db, modules, make_user, key, tmp_path, forgery
):
    certificate = pass_module(make_user(full_name="Amina Haddad"))
    claim = certificates.certificate_claim(certificate)
    genuine = signing.sign(claim, key)
    stranger = write_key(tmp_path / "stranger.pem")
    forged = FORGERIES[forgery](genuine, key, signing.sign(claim, stranger))

    assert signing.verify(genuine, {key.kid: key.public}).valid
    assert not signing.verify(forged, {key.kid: key.public}).valid
    result = run_cli(app, "verify", forged)
    assert result.exit_code == 1
    assert result.output.startswith("INVALID"), result.output
    assert "Amina Haddad" not in result.output


def test_verify_command_checks_payload_url_and_pdf_without_any_database(
    app, client, db, modules, make_user, login, key, tmp_path
):
    user = make_user(full_name="José Núñez")
    certificate = pass_module(user)
    pdf_path = tmp_path / "certificate.pdf"
    pdf_path.write_bytes(login(user).get(f"/training/certificates/{certificate.code}.pdf").data)
    with app.test_request_context():
        url = certificates.signed_verify_url(certificate)
    jwks_path = tmp_path / "keys.json"
    jwks_path.write_bytes(client.get("/.well-known/blue-beret-keys.json").data)
    expected = ("José Núñez", certificate.code, "Conduct basics (version 1.0)",
                f"completed: {certificate.completed_at.date().isoformat()}",
                f"expires: {certificate.expires_at.date().isoformat()}")  # fmt: skip

    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        for argument in (payload_of(url), url, str(pdf_path)):
            result = run_cli(app, "verify", argument, "--keys", str(jwks_path))
            # Genuine and current, but no revocation list was given to check against.
            assert result.exit_code == 3, result.output
            assert result.output.startswith(f"VALID (signed with key {key.kid})")
            assert all(text in result.output for text in expected), result.output
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert statements == []

    # The command as run at a checkpoint: its own process, with no database to open.
    environment = {
        **os.environ,
        "APP_CONFIG": "development",
        # Set, so that the command writes no development key into the worktree's instance/.
        "SECRET_KEY": "verify-test-secret-" + "k" * 32,
        "DATABASE_URL": f"sqlite:///{tmp_path}/no/such/dir/blue-beret.db",
        "MODULES_DIR": str(TestingConfig.MODULES_DIR),
        "CERTIFICATE_SIGNING_KEY": "",
        "CERTIFICATE_PREVIOUS_PUBLIC_KEYS": "",
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "certificates", "verify"]
    revoked_path = tmp_path / "revoked.json"
    revoked_path.write_bytes(client.get("/certificates/revoked.json").data)
    done = subprocess.run(
        [*command, str(pdf_path), "--keys", str(jwks_path), "--revoked", str(revoked_path)],
        capture_output=True, text=True, env=environment, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert all(text in done.stdout for text in expected), done.stdout
    forged = forge(payload_of(url), _changed_name)
    done = subprocess.run(
        [*command, forged, "--keys", str(jwks_path)],
        capture_output=True, text=True, env=environment, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout.startswith("INVALID"), done.stdout


def test_verify_command_without_any_public_key_says_where_to_get_them(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFICATE_SIGNING_KEY", "")
    monkeypatch.setitem(app.config, "CERTIFICATE_PREVIOUS_PUBLIC_KEYS", "")
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    result = run_cli(app, "verify", "https://training.example.org/verify/X?s=abc.def")
    assert result.exit_code == 2
    assert "/.well-known/blue-beret-keys.json" in result.output and "--keys" in result.output
    assert not (tmp_path / "instance").exists(), "verifying must not create a key"


def test_verify_command_reads_the_signed_link_of_a_pdf_without_credential(
    app, db, modules, make_user, key, tmp_path
):
    certificate = pass_module(make_user(full_name="Aïcha Traoré"))
    with app.test_request_context():
        data = certificates.document_data(certificate)
        del data["credential"]
        pdf = certificates.render_pdf(app.config["CERTIFICATES_DIR"], data)
    assert PdfReader(io.BytesIO(pdf)).attachments == {}
    (tmp_path / "plain.pdf").write_bytes(pdf)
    result = run_cli(app, "verify", str(tmp_path / "plain.pdf"))
    assert result.exit_code == 3, result.output
    assert "Aïcha Traoré" in result.output


def test_verify_command_says_expired(app, db, modules, make_user, key):
    certificate = pass_module(make_user())
    certificate.expires_at = utcnow() - timedelta(days=2)
    payload = signing.sign(certificates.certificate_claim(certificate), key)
    result = run_cli(app, "verify", payload)
    assert result.exit_code == 1
    assert "status: EXPIRED" in result.output


def test_public_keys_are_published_as_jwks(client, db, key):
    response = client.get("/.well-known/blue-beret-keys.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    raw = key.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert response.json["keys"] == [
        {"kty": "OKP", "crv": "Ed25519", "x": signing.b64encode(raw), "kid": key.kid,
         "alg": "EdDSA", "use": "sig"}
    ]  # fmt: skip
    published = signing.public_keys_from_bytes(response.data, "the published keys")
    assert list(published) == [key.kid]
    assert "private" not in response.get_data(as_text=True).lower()


def test_key_rotation_keeps_old_certificates_verifiable(
    app, client, db, modules, make_user, key, tmp_path, monkeypatch
):
    certificate = pass_module(make_user(full_name="Amina Haddad"))
    with app.test_request_context():
        old_url = certificates.signed_verify_url(certificate)
    # Keep the old public key, then switch to a new signing key.
    result = run_cli(app, "public-key")
    assert result.exit_code == 0
    (tmp_path / "old.pub.pem").write_text(result.output)
    result = run_cli(app, "keygen", "--output", str(tmp_path / "new.pem"))
    assert result.exit_code == 0, result.output
    monkeypatch.setitem(app.config, "CERTIFICATE_SIGNING_KEY", str(tmp_path / "new.pem"))

    # Without the old key published, the old signature no longer checks out.
    page = client.get(path_of(old_url)).get_data(as_text=True)
    assert "signature in the QR code is not valid" in page
    assert run_cli(app, "verify", old_url).exit_code == 1

    monkeypatch.setitem(
        app.config, "CERTIFICATE_PREVIOUS_PUBLIC_KEYS", str(tmp_path / "old.pub.pem")
    )
    page = client.get(path_of(old_url)).get_data(as_text=True)
    assert "genuine and matches this record" in page
    result = run_cli(app, "verify", old_url)
    assert result.exit_code == 3 and f"signed with key {key.kid}" in result.output
    kids = [k["kid"] for k in client.get("/.well-known/blue-beret-keys.json").json["keys"]]
    new_kid = signing.load_private_key(str(tmp_path / "new.pem")).kid
    assert kids == [new_kid, key.kid]
    with app.test_request_context():
        new_payload = payload_of(certificates.signed_verify_url(certificate))
    assert signing.verify(new_payload, signing.public_keys_from_bytes(
        (tmp_path / "new.pem").read_bytes(), "new")).kid == new_kid  # fmt: skip


def test_previous_keys_may_be_a_downloaded_jwks_file(app, client, db, key, tmp_path, monkeypatch):
    (tmp_path / "old-keys.json").write_bytes(client.get("/.well-known/blue-beret-keys.json").data)
    write_key(tmp_path / "new.pem")
    monkeypatch.setitem(app.config, "CERTIFICATE_SIGNING_KEY", str(tmp_path / "new.pem"))
    monkeypatch.setitem(
        app.config, "CERTIFICATE_PREVIOUS_PUBLIC_KEYS", f" {tmp_path / 'old-keys.json'} ,"
    )
    kids = [k["kid"] for k in client.get("/.well-known/blue-beret-keys.json").json["keys"]]
    assert kids[1:] == [key.kid] and len(kids) == 2


def test_verify_page_checks_the_signature_against_the_record(client, db, modules, make_user, key):
    first = pass_module(make_user(full_name="Amina Haddad"))
    second = pass_module(make_user(full_name="Ivan Petrov"))
    payload = signing.sign(certificates.certificate_claim(first), key)

    page = client.get(f"/verify/{first.code}?s={payload}").get_data(as_text=True)
    assert "genuine and matches this record" in page and "Valid" in page

    altered = forge(payload, _changed_name)
    page = client.get(f"/verify/{first.code}?s={altered}").get_data(as_text=True)
    assert "signature in the QR code is not valid" in page
    assert "Someone Else" not in page

    # A genuine signature copied onto another certificate's code does not match it.
    page = client.get(f"/verify/{second.code}?s={payload}").get_data(as_text=True)
    assert "genuine but does not match this record" in page

    page = client.get(f"/verify/{first.code}").get_data(as_text=True)
    assert "signature in the QR code" not in page


def test_verify_set_page_checks_the_record_signature(
    app, client, db, modules, make_user, key, tmp_path
):
    user = make_user(full_name="Chen Wei")
    pass_module(user, "basics")
    pass_module(user, "pledge")
    with app.test_request_context():
        data = certificates.consolidated_data(user)
    url = data["signed_verify_url"]
    page = client.get(path_of(url)).get_data(as_text=True)
    assert "genuine and matches these records" in page
    codes = parse_qs(urlsplit(url).query)["codes"][0].split(",")
    assert len(codes) == 2
    # Dropping a module from the list the signature covers is noticed.
    page = client.get(f"/verify/set?codes={codes[0]}&s={payload_of(url)}").get_data(as_text=True)
    assert "genuine but does not match these records" in page


def verdicts_of(page: str) -> list[str]:
    """Return the class of every verdict box, in the order the page shows them."""
    return re.findall(r'class="verdict ([^"]*)"', page)


def test_forged_qr_code_shows_the_forgery_first_and_no_valid_box(
    app, client, db, modules, make_user, key
):
    first = pass_module(make_user(full_name="Amina Haddad"))
    second = pass_module(make_user(full_name="Ivan Petrov"))
    payload = signing.sign(certificates.certificate_claim(first), key)

    forged = client.get(f"/verify/{first.code}?s={forge(payload, _changed_date)}")
    page = forged.get_data(as_text=True)
    assert verdicts_of(page) == ["signature-failed"]
    assert page.index("Forged or damaged QR code") < page.index("Amina Haddad")
    assert "<dt>Status</dt><dd>Valid</dd>" in page

    copied = client.get(f"/verify/{second.code}?s={payload}").get_data(as_text=True)
    assert verdicts_of(copied) == ["signature-failed"] and "Altered document" in copied

    genuine = client.get(f"/verify/{first.code}?s={payload}").get_data(as_text=True)
    assert verdicts_of(genuine) == ["valid"]

    user = make_user(full_name="Chen Wei")
    pass_module(user, "basics")
    pass_module(user, "pledge")
    with app.test_request_context():
        url = certificates.consolidated_data(user)["signed_verify_url"]
    forged_record = forge(payload_of(url), _changed_name)
    record = client.get(path_of(url).replace(payload_of(url), forged_record))
    record = record.get_data(as_text=True)
    assert verdicts_of(record) == ["signature-failed"]
    assert "Forged or damaged QR code" in record and "Training complete" not in record


def test_training_record_verify_page_names_missing_and_expired_modules(
    app, client, db, modules, make_user, key
):
    user = make_user(full_name="Chen Wei")
    basics = pass_module(user, "basics")
    basics.expires_at = utcnow() - timedelta(days=3)
    db.session.commit()
    with app.test_request_context():
        data = certificates.consolidated_data(user)
    [missing] = data["missing"]
    page = client.get(path_of(data["signed_verify_url"])).get_data(as_text=True)
    assert verdicts_of(page)[0] == "expired" and "Training incomplete" in page
    assert "2 mandatory modules are missing or no longer valid" in page
    assert f"{missing}: not completed" in page
    assert f"{basics.module_title}: expired on {shown_day(basics.expires_at)}" in page

    pass_module(user, "basics")
    pass_module(user, "pledge")
    with app.test_request_context():
        url = certificates.consolidated_data(user)["signed_verify_url"]
    page = client.get(path_of(url)).get_data(as_text=True)
    assert verdicts_of(page) == ["valid"] and "Training complete" in page


def test_verify_pages_are_never_cached_so_a_revocation_shows_at_once(app, client, db, org, key):
    certificate = org["mine"]
    for path in (
        f"/verify/{certificate.code}",
        f"/verify/set?codes={certificate.code}",
        "/verify/ABCD-EFGH-IJKL-MNOP",
    ):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    with app.test_request_context():
        certificates.revoke(certificate, org["coordinator"], REASON)
    db.session.commit()
    assert "Revoked</strong>" in client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    # The published lists may be cached a while: offline verifiers fetch them in bulk.
    assert client.get("/certificates/revoked.json").headers["Cache-Control"].startswith("public")


# Keys: generation, configuration, production ------------------------------------------


def test_keygen_writes_a_private_key_once_and_prints_its_public_key(app, tmp_path):
    target = tmp_path / "key.pem"
    result = run_cli(app, "keygen", "--output", str(target))
    assert result.exit_code == 0, result.output
    loaded = signing.load_private_key(str(target))
    assert f"Wrote the private key {loaded.kid} to {target}" in result.output
    assert signing.public_pem(loaded.public) in result.output
    assert "PRIVATE KEY" not in result.output
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600

    before = target.read_bytes()
    again = run_cli(app, "keygen", "--output", str(target))
    assert again.exit_code != 0 and "already exists" in again.output
    assert target.read_bytes() == before


def test_development_key_is_created_once_under_instance(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFICATE_SIGNING_KEY", "")
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with app.app_context():
        assert signing.public_keys(create=False) == {}
        first = signing.signing_key()
    path = tmp_path / "instance" / signing.DEV_KEY_FILENAME
    assert path.is_file() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    signing._configured_key.cache_clear()
    with app.app_context():
        assert signing.signing_key().kid == first.kid


def test_signing_key_may_be_given_as_pem_text(app, tmp_path, monkeypatch):
    key = write_key(tmp_path / "key.pem")
    monkeypatch.setitem(app.config, "CERTIFICATE_SIGNING_KEY", (tmp_path / "key.pem").read_text())
    with app.app_context():
        assert signing.signing_key().kid == key.kid


def production(signing_key: str) -> type[ProductionConfig]:
    class Production(ProductionConfig):
        SECRET_KEY = "k" * 40
        MODULES_DIR = TestingConfig.MODULES_DIR
        AUDIT_KEY = "a" * 40
        PUBLIC_BASE_URL = "https://training.example.org"
        CERTIFICATE_SIGNING_KEY = signing_key

    return Production


def test_production_refuses_to_start_without_a_signing_key(tmp_path):
    with pytest.raises(ConfigError, match="CERTIFICATE_SIGNING_KEY must be set in production"):
        create_app(production(""))
    with pytest.raises(ConfigError, match="not a readable file"):
        create_app(production(str(tmp_path / "missing.pem")))
    write_key(tmp_path / "key.pem")
    assert create_app(production(str(tmp_path / "key.pem"))).config["CERTIFICATE_SIGNING_KEY"]


# Revocation -------------------------------------------------------------------------------


def test_coordinator_revokes_a_certificate_in_their_unit(client, db, org, login, key):
    certificate = org["mine"]
    login(org["coordinator"])
    person_page = client.get(f"/coordinator/people/{org['holder'].id}").get_data(as_text=True)
    assert f"/coordinator/certificates/{certificate.code}/revoke" in person_page
    before = (count(Certificate), count(Completion))

    url = f"/coordinator/certificates/{certificate.code}/revoke"
    asked = post(client, url, {"reason": REASON})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and f"Revoke certificate {certificate.code}?" in page
    assert 'name="confirm" value="yes"' in page and REASON in page
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).revoked_at is None, "not until confirmed"

    response = post(client, url, {"reason": REASON, "confirm": "yes"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/coordinator/people/{org['holder'].id}#certificates"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Certificate {certificate.code} is revoked" in page
    assert "Revoked on" in page and REASON in page

    db.session.expire_all()
    revoked = db.session.get(Certificate, certificate.id)
    assert revoked.revoked_by_id == org["coordinator"].id
    assert revoked.revocation_reason == REASON
    assert revoked.revoked_at is not None
    assert (count(Certificate), count(Completion)) == before, "nothing is deleted"
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.CERTIFICATE_REVOKED)
    )
    assert entry.target == certificate.code and entry.actor_id == org["coordinator"].id
    assert entry.details["reason"] == REASON


def test_verify_page_shows_revoked_with_the_date_and_nothing_more(app, client, db, org, key):
    certificate = org["mine"]
    with app.test_request_context():
        certificates.revoke(certificate, org["coordinator"], REASON)
    db.session.commit()
    revoked_on = shown_day(certificate.revoked_at)

    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Revoked</strong>" in page and f"on {revoked_on}" in page
    assert "Valid</strong>" not in page and "Amina Haddad" in page
    assert REASON not in page and certificate.service_number not in page
    set_page = client.get(f"/verify/set?codes={certificate.code}").get_data(as_text=True)
    assert "Revoked</strong>" in set_page and revoked_on in set_page


def test_coordinator_cannot_revoke_in_another_unit(client, db, org, login, key):
    login(org["coordinator"])
    response = post(client, f"/coordinator/certificates/{org['theirs'].code}/revoke",
                    {"reason": REASON})  # fmt: skip
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Certificate, org["theirs"].id).revoked_at is None


@pytest.mark.parametrize("role", [Role.COMMANDER, Role.PEACEKEEPER])
def test_commanders_and_peacekeepers_cannot_revoke(client, db, org, login, make_user, key, role):
    login(make_user(role))
    for url in (f"/coordinator/certificates/{org['mine'].code}/revoke",
                f"/admin/certificates/{org['mine'].code}/revoke"):  # fmt: skip
        assert post(client, url, {"reason": REASON}).status_code == 403
    assert client.get(f"/admin/certificates?code={org['mine'].code}").status_code == 403
    db.session.expire_all()
    assert db.session.get(Certificate, org["mine"].id).revoked_at is None


def test_revoking_never_happens_on_get(client, db, org, login, make_user, key):
    login(make_user(Role.ADMIN))
    for url in (f"/coordinator/certificates/{org['mine'].code}/revoke",
                f"/admin/certificates/{org['mine'].code}/revoke"):  # fmt: skip
        assert client.get(url, query_string={"reason": REASON}).status_code == 405
    db.session.expire_all()
    assert db.session.get(Certificate, org["mine"].id).revoked_at is None


def test_revoking_without_a_csrf_token_is_refused(client, db, org, login, key):
    login(org["coordinator"])
    response = client.post(f"/coordinator/certificates/{org['mine'].code}/revoke",
                           data={"reason": REASON})  # fmt: skip
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Certificate, org["mine"].id).revoked_at is None


def test_admin_looks_a_certificate_up_and_revokes_it(client, db, org, login, make_user, key):
    admin = make_user(Role.ADMIN)
    login(admin)
    code = org["theirs"].code
    typed = code.replace("-", "").lower()
    page = client.get(f"/admin/certificates?code={typed}").get_data(as_text=True)
    assert "Umar Other" in page and "Valid" in page and f"/admin/certificates/{code}/revoke" in page
    assert client.get("/admin/certificates?code=ZZZZ-ZZZZ-ZZZZ-ZZZZ").status_code == 404

    short = post(client, f"/admin/certificates/{code}/revoke", {"reason": "error"})
    assert short.status_code == 422
    assert "Give the reason for revoking in 10 to 500 characters" in short.get_data(as_text=True)
    too_long = post(client, f"/admin/certificates/{code}/revoke", {"reason": "x" * 501})
    assert too_long.status_code == 422
    db.session.expire_all()
    assert db.session.get(Certificate, org["theirs"].id).revoked_at is None

    response = post(
        client, f"/admin/certificates/{code}/revoke", {"reason": REASON, "confirm": "yes"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Revoked" in page and REASON in page
    db.session.expire_all()
    assert db.session.get(Certificate, org["theirs"].id).revoked_by_id == admin.id


def test_a_revoked_certificate_cannot_be_revoked_again(client, db, org, login, make_user, key):
    login(make_user(Role.ADMIN))
    code = org["mine"].code
    post(client, f"/admin/certificates/{code}/revoke", {"reason": REASON, "confirm": "yes"})
    db.session.expire_all()
    first = db.session.get(Certificate, org["mine"].id).revoked_at

    again = post(
        client, f"/admin/certificates/{code}/revoke", {"reason": "A second, later reason."}
    )
    assert again.status_code == 422
    assert "was already revoked on" in again.get_data(as_text=True)
    db.session.expire_all()
    certificate = db.session.get(Certificate, org["mine"].id)
    assert certificate.revoked_at == first and certificate.revocation_reason == REASON


def test_revoke_service_requires_a_reason(app, db, org):
    with app.test_request_context():
        for reason in ("", "   ", "too short", "x" * 501):
            with pytest.raises(certificates.RevocationError, match="10 to 500 characters"):
                certificates.revoke(org["mine"], org["coordinator"], reason)
    assert org["mine"].revoked_at is None


def test_revoked_status_wins_over_valid_and_expired(app, db, org):
    certificate = org["mine"]
    assert certificates.status(certificate) == certificates.VerifyStatus.VALID
    with app.test_request_context():
        certificates.revoke(certificate, org["coordinator"], REASON)
    assert certificates.status(certificate) == certificates.VerifyStatus.REVOKED
    later = certificate.expires_at + timedelta(days=1)
    assert certificates.status(certificate, later) == certificates.VerifyStatus.REVOKED


def test_revocation_list_is_public_signed_and_names_no_one(
    client, db, org, login, make_user, key, tmp_path
):
    login(make_user(Role.ADMIN))
    post(
        client,
        f"/admin/certificates/{org['mine'].code}/revoke",
        {"reason": REASON, "confirm": "yes"},
    )
    response = client.get("/certificates/revoked.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.json
    assert [item["code"] for item in document["revoked"]] == [org["mine"].code]
    assert set(document["revoked"][0]) == {"code", "revoked_at"}
    text = response.get_data(as_text=True)
    assert REASON not in text and "Amina Haddad" not in text and org["theirs"].code not in text

    keys = signing.public_keys_from_bytes(
        client.get("/.well-known/blue-beret-keys.json").data, "keys"
    )
    assert signing.verify_document(document, keys)
    tampered = {**document, "revoked": []}
    assert not signing.verify_document(tampered, keys)

    # Offline: a downloaded list makes the command refuse the revoked certificate.
    (tmp_path / "revoked.json").write_text(text)
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    with client.application.test_request_context():
        revoked_url = certificates.signed_verify_url(org["mine"])
        valid_url = certificates.signed_verify_url(org["theirs"])
    app = client.application
    result = run_cli(app, "verify", revoked_url, "--revoked", str(tmp_path / "revoked.json"))
    assert result.exit_code == 1 and "status: REVOKED" in result.output
    result = run_cli(app, "verify", valid_url, "--revoked", str(tmp_path / "revoked.json"))
    assert result.exit_code == 0 and "status: valid" in result.output
    result = run_cli(app, "verify", revoked_url, "--revoked", str(tmp_path / "tampered.json"))
    assert result.exit_code == 2 and "not signed by any of the public keys" in result.output


def test_verify_command_does_not_count_a_stale_revocation_list_as_checked(
    client, db, org, login, make_user, key, tmp_path
):
    login(make_user(Role.ADMIN))
    post(
        client,
        f"/admin/certificates/{org['mine'].code}/revoke",
        {"reason": REASON, "confirm": "yes"},
    )
    app = client.application
    with app.test_request_context():
        old = certificates.revocation_list(now=utcnow() - timedelta(days=8))
        revoked_url = certificates.signed_verify_url(org["mine"])
        valid_url = certificates.signed_verify_url(org["theirs"])
    (tmp_path / "old.json").write_text(json.dumps(old))
    result = run_cli(app, "verify", valid_url, "--revoked", str(tmp_path / "old.json"))
    assert result.exit_code == 3, result.output
    assert "status: valid" in result.output
    assert "revocations: NOT CHECKED: the list was made on" in result.output
    assert "8 days ago, more than --max-age 7" in result.output
    # A longer --max-age accepts the same list; what it lists as revoked stays revoked.
    longer = ("--revoked", str(tmp_path / "old.json"), "--max-age", "10")
    assert run_cli(app, "verify", valid_url, *longer).exit_code == 0
    assert (
        run_cli(app, "verify", revoked_url, "--revoked", str(tmp_path / "old.json")).exit_code == 1
    )
    result = run_cli(app, "verify", valid_url)
    assert result.exit_code == 3 and "revocations: NOT CHECKED" in result.output


def test_learner_sees_revoked_and_can_no_longer_download_it(client, db, org, login, key):
    certificate = org["mine"]
    with client.application.test_request_context():
        certificates.revoke(certificate, org["coordinator"], REASON)
    db.session.commit()
    login(org["holder"])
    page = client.get("/training/").get_data(as_text=True)
    assert f"Revoked on {shown_day(certificate.revoked_at)}" in page
    assert f"/training/certificates/{certificate.code}.pdf" not in page
    response = client.get(f"/training/certificates/{certificate.code}.pdf")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "was revoked on" in page and "cannot be downloaded" in page


def test_training_record_marks_a_revoked_certificate(client, db, org, login, key, tmp_path):
    certificate = org["mine"]
    with client.application.test_request_context():
        certificates.revoke(certificate, org["coordinator"], REASON)
    db.session.commit()
    pdf = login(org["holder"]).get("/training/record.pdf").data
    text = " ".join(pdf_text(pdf, tmp_path).split())
    revoked_on = f"on {format_date(certificate.revoked_at, 'long')})"
    assert certificate.code in text and "(revoked" in text and revoked_on in text


def test_a_revoked_certificate_gives_way_to_a_newer_valid_one_on_the_record(
    app, db, org, make_user
):
    holder = org["holder"]
    with app.test_request_context():
        certificates.revoke(org["mine"], org["coordinator"], REASON)
    db.session.commit()
    newer = pass_module(holder)
    assert [c.code for c in certificates.current_certificates(holder)] == [newer.code]
    # Even when the revoked one would expire later.
    org["mine"].expires_at = newer.expires_at + timedelta(days=30)
    db.session.commit()
    assert [c.code for c in certificates.current_certificates(holder)] == [newer.code]


# What a revocation changes ---------------------------------------------------------------


def revoke(db, certificate, by):
    certificates.revoke(certificate, by, REASON)
    db.session.commit()


def record_of(db, user, certificate):
    module_id = db.session.get(Completion, certificate.completion_id).module_id
    return db.session.get(TrainingRecord, (user.id, module_id))


def test_revoked_certificate_no_longer_counts_as_passed(client, db, org, login, key):
    holder, certificate = org["holder"], org["mine"]
    revoke(db, certificate, org["coordinator"])
    revoked_on = shown_day(certificate.revoked_at)

    [basics] = [s for s in training.module_statuses(holder) if s.version.slug == "basics"]
    assert basics.status == training.Status.REVOKED
    assert basics.completion is None and basics.can_start
    assert basics.revoked_at == certificate.revoked_at

    login(org["coordinator"])
    page = client.get(f"/coordinator/people/{holder.id}").get_data(as_text=True)
    modules_table = page.split('id="certificates"')[0]
    assert 'badge-revoked">Revoked<' in modules_table
    assert f"Revoked on {revoked_on}" in modules_table
    assert "Passed" not in modules_table


def test_revocation_recomputes_the_training_record_from_the_remaining_completions(
    db, org, make_user
):
    holder, older = org["holder"], org["mine"]
    newer = pass_module(holder)
    older_expiry = utcnow() + timedelta(days=100)
    db.session.get(Completion, older.completion_id).expires_at = older_expiry
    db.session.commit()
    assert record_of(db, holder, newer).valid_until == newer.expires_at

    revoke(db, newer, org["coordinator"])
    db.session.expire_all()
    assert record_of(db, holder, newer).valid_until == older_expiry

    revoke(db, older, org["coordinator"])
    db.session.expire_all()
    assert record_of(db, holder, older) is None
    # Nobody else's record moves.
    assert record_of(db, org["theirs"].completion.user, org["theirs"]) is not None


def test_revoked_certificate_leaves_the_reports_and_matrix(db, org, unit):
    holder = org["holder"]
    module_id = db.session.get(Completion, org["mine"].completion_id).module_id
    cutoffs = reporting.Cutoffs.at()

    def complete_in_matrix():
        cell = reporting.matrix([unit], reporting.Filters(unit_ids=[unit.id]), cutoffs)
        return cell.cell(unit.id, module_id).count(reporting.State.COMPLETE)

    def holder_state():
        filters = reporting.Filters(user_id=holder.id, module_id=module_id)
        [row] = reporting.people(filters, cutoffs).rows
        return row.state

    assert (complete_in_matrix(), holder_state()) == (1, reporting.State.COMPLETE)
    revoke(db, org["mine"], org["coordinator"])
    assert complete_in_matrix() == 0
    assert holder_state() == reporting.State.IN_PROGRESS
