"""Certificates: the PDF a learner downloads and the page anyone can verify it on."""

from __future__ import annotations

import base64
import random
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from app.services import certificates
from config import ROOT
from tests.fixtures import pass_module, pdf_text, shown_day


def test_learner_downloads_own_certificate_with_name_and_code(
    client, db, modules, make_user, login, tmp_path
):
    user = make_user(full_name="Amina Haddad", service_number="GH-20417")
    certificate = pass_module(user)
    response = login(user).get(f"/training/certificates/{certificate.code}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data, tmp_path)
    for expected in ("Amina Haddad", "GH-20417", "Conduct basics", certificate.code,
                     "Military contingent member", "Unit A", "Version 1.0",
                     f"https://training.example.org/verify/{certificate.code}"):  # fmt: skip
        assert expected in text, expected


def test_certificate_of_someone_else_is_not_found(client, db, modules, make_user, login):
    certificate = pass_module(make_user())
    login(make_user())
    assert client.get(f"/training/certificates/{certificate.code}.pdf").status_code == 404


def test_certificate_is_listed_on_my_training(client, db, modules, make_user, login):
    user = make_user()
    certificate = pass_module(user)
    page = login(user).get("/training/").get_data(as_text=True)
    assert f"/training/certificates/{certificate.code}.pdf" in page


def test_verify_page_shows_valid_certificate_without_login(client, db, modules, make_user):
    certificate = pass_module(make_user(full_name="Ivan Petrov", service_number="RU-555"))
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Valid" in page and "Ivan Petrov" in page and "Conduct basics" in page
    assert shown_day(certificate.completed_at) in page
    # Nothing beyond what a checkpoint needs.
    assert "RU-555" not in page and "Unit A" not in page


def test_certificate_code_is_eighty_drawn_bits_read_out_in_groups_of_four(
    client, db, modules, make_user, random_sources
):
    random_sources.certificate_codes.seed("code")
    drawn = random.Random("code").randbytes(10)
    certificate = pass_module(make_user(full_name="Ivan Petrov"))
    assert certificate.code.replace("-", "") == base64.b32encode(drawn).decode()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", certificate.code)
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Valid" in page and "Ivan Petrov" in page


def test_verify_accepts_code_typed_without_dashes(client, db, modules, make_user):
    certificate = pass_module(make_user())
    typed = certificate.code.replace("-", "").lower()
    response = client.get(f"/verify?code={typed}")
    assert response.headers["Location"] == f"/verify/{certificate.code}"


def test_verify_page_shows_expired(client, db, modules, make_user):
    certificate = pass_module(make_user())
    certificate.expires_at = certificate.completed_at - timedelta(days=1)
    db.session.commit()
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Expired" in page and "Valid<" not in page


def test_verify_unknown_code(client, db):
    response = client.get("/verify/AAAA-BBBB-CCCC-DDDD")
    assert response.status_code == 404
    assert "Unknown certificate" in response.get_data(as_text=True)


def test_codes_are_unguessable_and_unique():
    codes = {certificates.new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(len(code) == 19 and code.count("-") == 3 for code in codes)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", "https://example.org/x.css",
     "file://{root}/../config.py"],
)  # fmt: skip
def test_certificate_renderer_fetches_only_its_own_assets(app, url):
    root = app.config["CERTIFICATES_DIR"]
    fetcher = certificates.AssetFetcher(root)
    with pytest.raises(ValueError, match="only use their own assets"):
        fetcher.fetch(url.format(root=root))
    assert fetcher.fetch((root / "emblem.svg").as_uri()).read().startswith(b"<svg")


def test_design_referring_to_outside_files_renders_without_them(app, tmp_path, caplog):
    design = tmp_path / "design"
    design.mkdir()
    (design / "certificate.html").write_text(
        '<p>{{ holder_name }}</p><img src="file:///etc/hostname"><img src="http://example.org/x.png">'
    )
    (design / "certificate.css").write_text('@import url("file:///etc/passwd"); p { color: red }')
    with app.test_request_context():
        pdf = certificates.render_pdf(design, {"holder_name": "Test Person"})
    assert pdf.startswith(b"%PDF")
    refused = [
        r.getMessage() for r in caplog.records if "only use their own assets" in r.getMessage()
    ]
    assert len(refused) == 3, refused


def test_training_record_lists_every_module_and_verifies_them_together(
    client, db, modules, make_user, login, tmp_path
):
    user = make_user(full_name="Chen Wei", service_number="CN-8812")
    first = pass_module(user, "basics")
    login(user)
    response = client.get("/training/record.pdf")
    assert response.status_code == 200
    text = " ".join(pdf_text(response.data, tmp_path).split())
    assert "Chen Wei" in text and "CN-8812" in text and "Conduct training record" in text
    assert "Conduct basics" in text and first.code in text
    # The undertaking module is mandatory too and not yet done.
    assert "A module with an" in text and "Not completed" in text
    assert f"/verify/set?codes={first.code}" in text

    page = client.get(f"/verify/set?codes={first.code}").get_data(as_text=True)
    assert "Valid" in page and "Chen Wei" in page
    unknown = client.get(f"/verify/set?codes={first.code},ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert unknown.status_code == 404 and "Unknown certificate" in unknown.get_data(as_text=True)


MM_PER_POINT = 25.4 / 72
WORD_RE = re.compile(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)</word>')


def words_in_mm(pdf: bytes, tmp_path: Path) -> tuple[float, list[tuple[float, float, str]]]:
    """Return the first page's width and each word's left and right edges, in millimetres."""
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf)
    bbox = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    width = float(re.search(r'<page width="([\d.]+)"', bbox)[1]) * MM_PER_POINT
    words = [
        (float(a) * MM_PER_POINT, float(b) * MM_PER_POINT, w) for a, b, w in WORD_RE.findall(bbox)
    ]
    return width, words


def test_training_record_table_keeps_to_the_headers_margins(
    client, db, modules, make_user, login, tmp_path
):
    user = make_user(full_name="Chen Wei")
    held = [pass_module(user, "basics"), pass_module(user, "pledge")]
    pdf = login(user).get("/training/record.pdf").data
    css = (ROOT / "certificates" / "consolidated.css").read_text()
    side = float(re.search(r"@page \{[^}]*margin: [\d.]+mm ([\d.]+)mm", css)[1])
    width, words = words_in_mm(pdf, tmp_path)
    codes = [(left, right) for left, right, word in words if word in {c.code for c in held}]
    assert len(codes) >= len(held)
    # The certificate code is the table's last column, the word nearest the right edge.
    assert all(right <= width - side for _, right in codes), (width - side, codes)
    assert all(right <= width - side for _, right, _ in words)
    assert min(left for left, _, _ in words) >= side
