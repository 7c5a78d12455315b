"""A forgotten password in the field: the coordinator issues a new one-time link and QR code."""

from __future__ import annotations

import base64
import html
import io
import re
from urllib.parse import urlsplit

import pytest
import segno
import sqlalchemy as sa
from PIL import Image

from app.models import AuditEntry, Role, User
from tests.fixtures import PASSWORD, csv_file, post, upload_and_preview

LINK = re.compile(r'<code class="link" dir="ltr">([^<]+)</code>')
QR = re.compile(r'<img (?:class="roster-qr" )?src="(data:image/png;base64,[^"]+)"')


@pytest.fixture
def coordinator(make_user, unit):
    return make_user(Role.COORDINATOR, unit=None, assigned_units=[unit])


@pytest.fixture
def forgetful(make_user):
    """A peacekeeper of the coordinator's unit who forgot their password."""
    return make_user(full_name="Kwame Forgetful")


def issue(client, person: User):
    """Press the person page's button that issues a new set-password link."""
    return post(client, f"/coordinator/people/{person.id}/set-password-link")


def shown_link(page: str) -> str:
    [link] = LINK.findall(page)
    return html.unescape(link)


def qr_matrix(data_uri: str) -> list[str]:
    """Return the modules of a QR code image, row by row, '1' for dark and '0' for light."""
    image = Image.open(io.BytesIO(base64.b64decode(data_uri.partition(",")[2]))).convert("L")
    return [
        "".join("1" if image.getpixel((x, y)) < 128 else "0" for x in range(image.width))
        for y in range(image.height)
    ]


def encodes(matrix: list[str], link: str) -> bool:
    """Return whether the modules are those of a QR code of the link, whatever its mask.

    Each of the eight masks gives other modules for the same content: the image is
    compared with every one, as a reader would unmask it.
    """
    return any(
        matrix
        == [
            "".join("1" if dark else "0" for dark in row)
            for row in segno.make(link, error="m", mask=mask).matrix_iter(border=4)
        ]
        for mask in range(8)
    )


def audited(db, action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_the_sign_in_page_leads_to_a_page_that_sends_people_to_their_coordinator(client):
    login = client.get("/login").get_data(as_text=True)
    assert '<a href="/forgot-password">Forgot your password?</a>' in login
    response = client.get("/forgot-password")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ask your training coordinator for a new set-password link." in page
    assert "never sends a new password by e-mail" in page
    # It asks for nothing, so it cannot tell anyone whether an account exists.
    main = page[page.index("<main") : page.index("</main>")]
    assert "<form" not in main and "<input" not in main


def test_a_coordinator_issues_a_link_shown_once_with_its_qr_code(
    client, db, coordinator, forgetful, login
):
    login(coordinator)
    person_page = client.get(f"/coordinator/people/{forgetful.id}").get_data(as_text=True)
    assert "Issue a new set-password link for <bdi>Kwame Forgetful</bdi>" in person_page

    response = issue(client, forgetful)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    link = shown_link(page)
    assert urlsplit(link).path == "/set-password" and len(urlsplit(link).fragment) > 40
    [qr] = QR.findall(page)
    assert encodes(qr_matrix(qr), link)
    assert not encodes(qr_matrix(qr), link + "x")
    # Shown once: the person page does not show it again.
    again = client.get(f"/coordinator/people/{forgetful.id}").get_data(as_text=True)
    assert link not in again and urlsplit(link).fragment not in again


def test_issuing_a_link_is_audited(client, db, coordinator, forgetful, login):
    login(coordinator)
    issue(client, forgetful)
    [entry] = audited(db, "set_password_link_issued")
    assert entry.actor == coordinator.username and entry.target == forgetful.username
    assert entry.details == {"service_number": forgetful.service_number, "sessions_ended": True}


def test_issuing_a_link_signs_the_person_out_everywhere(
    app, client, db, coordinator, forgetful, login
):
    phone = app.test_client()
    post(phone, "/login", {"username": forgetful.username, "password": PASSWORD})
    assert phone.get("/training/").status_code == 200

    login(coordinator)
    assert issue(client, forgetful).status_code == 200
    signed_out = phone.get("/training/")
    assert signed_out.status_code == 302 and signed_out.headers["Location"].startswith("/login")
    # The password they remember (if they do) still works until they set a new one.
    again = post(phone, "/login", {"username": forgetful.username, "password": PASSWORD})
    assert again.status_code == 302


def test_the_new_link_works_once_and_the_one_before_it_stops_working(
    client, app, db, coordinator, forgetful, login
):
    login(coordinator)
    first = shown_link(issue(client, forgetful).get_data(as_text=True))
    link = shown_link(issue(client, forgetful).get_data(as_text=True))
    person = app.test_client()

    def use(token_link: str, password: str):
        token = urlsplit(token_link).fragment
        return post(person, "/set-password", {"token": token, "password": password,
                                              "confirm": password})  # fmt: skip

    assert use(first, "an older link").status_code == 400
    done = use(link, "blue helmets at dawn")
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert use(link, "taken over later").status_code == 400
    signed_in = post(person, "/login", {"username": forgetful.username,
                                        "password": "blue helmets at dawn"})  # fmt: skip
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/training/"


def test_someone_of_another_unit_is_not_found(
    client, db, coordinator, make_user, other_unit, login
):
    stranger = make_user(unit=other_unit)
    token = stranger.session_token
    login(coordinator)
    assert issue(client, stranger).status_code == 404
    db.session.refresh(stranger)
    assert stranger.session_token == token
    assert audited(db, "set_password_link_issued") == []


def test_a_coordinator_cannot_recover_an_account_with_more_rights(
    client, db, coordinator, make_user, unit, login
):
    colleague = make_user(Role.COORDINATOR, assigned_units=[unit])
    login(coordinator)
    page = client.get(f"/coordinator/people/{colleague.id}").get_data(as_text=True)
    assert "Issue a new set-password link" not in page
    assert issue(client, colleague).status_code == 403
    assert audited(db, "set_password_link_issued") == []


def test_an_admin_issues_a_link_for_anyone_in_a_unit_from_the_person_page(
    client, db, make_user, unit, login
):
    admin = make_user(Role.ADMIN, unit=None)
    colleague = make_user(Role.COORDINATOR, assigned_units=[unit])
    login(admin)
    assert issue(client, colleague).status_code == 200
    [entry] = audited(db, "set_password_link_issued")
    assert entry.actor == admin.username and entry.target == colleague.username


def test_an_admin_recovers_an_account_without_a_unit_from_the_account_page(
    app, client, db, make_user, unit, coordinator, login
):
    admin = make_user(Role.ADMIN, unit=None)
    # A coordinator serves in no unit: no person page, and nobody above but an admin.
    assert issue(login(admin), coordinator).status_code == 404
    account = client.get(f"/admin/users/{coordinator.id}").get_data(as_text=True)
    assert "Issue a new set-password link for <bdi>" in account
    response = post(client, f"/admin/users/{coordinator.id}/set-password-link")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f'href="/admin/users/{coordinator.id}"' in page
    [qr] = QR.findall(page)
    assert encodes(qr_matrix(qr), shown_link(page))
    [entry] = audited(db, "set_password_link_issued")
    assert entry.actor == admin.username and entry.target == coordinator.username


def test_a_coordinator_cannot_use_the_admin_recovery(client, db, coordinator, forgetful, login):
    login(coordinator)
    response = post(client, f"/admin/users/{forgetful.id}/set-password-link")
    assert response.status_code in (403, 404)
    assert audited(db, "set_password_link_issued") == []


def test_issuing_needs_a_post_with_its_csrf_token(client, db, coordinator, forgetful, login):
    login(coordinator)
    url = f"/coordinator/people/{forgetful.id}/set-password-link"
    token = forgetful.session_token
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 400
    db.session.refresh(forgetful)
    assert forgetful.session_token == token


def test_the_printed_link_sheet_has_a_qr_code_per_person(client, db, coordinator, login):
    login(coordinator)
    url, _ = upload_and_preview(
        client,
        csv_file("SN-1,Kofi Boateng,civilian,UNIT-A,,,", "SN-2,Ama Mensah,civilian,UNIT-A,,,"),
    )
    page = post(client, url).get_data(as_text=True)
    links = [html.unescape(link) for link in LINK.findall(page)]
    codes = QR.findall(page)
    assert len(links) == len(codes) == 2
    for link, code in zip(links, codes, strict=True):
        assert encodes(qr_matrix(code), link)
