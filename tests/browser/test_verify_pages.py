"""The public verify pages in Chromium: the verdict first, every detail on a phone."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page

from app.extensions import db
from app.models import User
from app.services import certificates, signing
from tests.browser.helpers import LiveServer, assert_accessible, certificate_code
from tests.fixtures import shown_day

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
WIDTHS = [360, 768, 1280]


def record_link(server: LiveServer, full_name: str) -> str:
    """Return the signed verify link a demo member's training record prints in its QR code."""
    with server.data(), server.app.test_request_context():
        user = db.session.scalar(sa.select(User).where(User.full_name == full_name))
        assert user is not None, full_name
        parts = urlsplit(certificates.consolidated_data(user)["signed_verify_url"])
        return f"{parts.path}?{parts.query}"


def forged(link: str) -> str:
    """Change the name a link's signed payload states, keeping its signature."""
    payload = link.split("s=")[-1]
    body, signature = payload.split(".")
    document = json.loads(signing.b64decode(body))
    document["n"] = "Someone Else"
    return link.replace(
        payload, signing.b64encode(signing.canonical_json(document)) + "." + signature
    )


def hidden_table_text(page: Page) -> list[str]:
    """Return the table cells whose text reaches outside the window or is clipped."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth + 0.5;
            return [...document.querySelectorAll('main table td')]
                .filter((cell) => {
                    const box = cell.getBoundingClientRect();
                    const clipped = cell.scrollWidth > cell.clientWidth + 1;
                    return box.left < 0 || box.right > width || clipped;
                })
                .map((cell) => cell.textContent.trim());
        }"""
    )


def verdicts_top_down(page: Page) -> list[str]:
    """Return the class of every visible verdict box, from the top of the page down."""
    return page.evaluate(
        """() => [...document.querySelectorAll('main .verdict')]
            .filter((box) => box.getBoundingClientRect().height > 0)
            .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
            .map((box) => box.className)"""
    )


def test_training_record_verify_page_shows_every_date_on_a_phone(
    page: Page, live_server: LiveServer
) -> None:
    link = record_link(live_server, "Prakash Shrestha")
    codes = parse_qs(urlsplit(link).query)["codes"][0].split(",")
    with live_server.data():
        held = [certificates.find(code) for code in codes]
        dates = {shown_day(day) for c in held if c for day in (c.completed_at, c.expires_at)}
    page.set_viewport_size(PHONE)
    page.goto(link)
    text = page.locator("main table").inner_text()
    for label in ("Certificate code", "Status", "Name", "Module", "Completed on", "Valid until"):
        assert label in text
    assert len(held) >= 2 and dates and all(date in text for date in dates)
    assert hidden_table_text(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_forged_qr_code_shows_the_forgery_first_at_any_width(
    page: Page, live_server: LiveServer, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    code = certificate_code(live_server, "Kiran Gurung")
    with live_server.data(), live_server.app.test_request_context():
        certificate = certificates.find(code)
        assert certificate is not None
        link = urlsplit(certificates.signed_verify_url(certificate))
    for path in (f"{link.path}?{link.query}", record_link(live_server, "Kiran Gurung")):
        page.goto(forged(path))
        assert verdicts_top_down(page) == ["verdict signature-failed"], page.url
        assert "Someone Else" not in page.locator("main").inner_text()
        assert_accessible(page)
