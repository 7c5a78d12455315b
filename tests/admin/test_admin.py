"""Administration: the audit trail in words, and finding and revoking certificates."""

from __future__ import annotations

from app.models import AuditAction, Certificate, Role
from app.models.types import utcnow
from app.services import audit
from tests.fixtures import pass_module, post

REASON = "Misconduct finding of the board of inquiry."


def test_audit_trail_names_events_and_details_in_words(client, db, modules, make_user, login):
    admin = make_user(Role.ADMIN, unit=None)
    person = make_user(full_name="Amina Haddad")
    pass_module(person)
    changes = {"role": ["peacekeeper", "coordinator"], "is_active": [True, False]}
    audit.record(AuditAction.ACCOUNT_CHANGED, person.username, changes, admin)
    db.session.commit()
    login(admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Account changed" in page and "Module completed" in page and "Certificate issued" in page
    assert "<dt>Role</dt><dd>peacekeeper → coordinator</dd>" in page
    assert "<dt>Account active</dt><dd>yes → no</dd>" in page
    assert "<dt>Score</dt>" in page and "<dt>Valid until</dt>" in page
    # Neither raw codes nor JSON.
    assert (
        ">account_changed<" not in page and "completion_recorded" not in page.split("</select>")[1]
    )
    assert "{&#34;" not in page and '{"' not in page
    assert 'name="action"' in page and ">Account changed</option>" in page


def trail_page(client, db, login, admin, *entries) -> str:
    """Record the entries (action, target, details) as the admin; return the trail's page."""
    for action, target, details in entries:
        audit.record(action, target, details, admin)
    db.session.commit()
    login(admin)
    return client.get("/admin/audit").get_data(as_text=True)


def test_audit_trail_names_participants_added_and_removed_in_words(client, db, make_user, login):
    added = {"participants": 2, "people": ["GH-2001", "GH-2002"]}
    removed = {"service_number": "GH-1001"}
    page = trail_page(
        client,
        db,
        login,
        make_user(Role.ADMIN, unit=None),
        (AuditAction.CLASSROOM_PARTICIPANTS_ADDED, "session 4QK7XW9A", added),
        (AuditAction.CLASSROOM_PARTICIPANT_REMOVED, "session 4QK7XW9A", removed),
    )
    assert "Participants added to a classroom session" in page
    assert "<dt>Participants</dt><dd>2</dd>" in page
    assert "<dt>People</dt><dd>GH-2001, GH-2002</dd>" in page
    assert "Participant removed from a classroom session" in page
    assert "<dt>Service number</dt><dd>GH-1001</dd>" in page
    assert "classroom_participant" not in page.split("</select>")[1]


def test_audit_date_fields_say_what_they_hold_and_bound_the_days_included(
    client, db, make_user, login
):
    admin = make_user(Role.ADMIN, unit=None)
    audit.record(AuditAction.EXPORT, "/today", {}, admin)
    db.session.commit()
    login(admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "YYYY-MM-DD" not in page
    assert "From (first day)" in page and "Until (last day, included)" in page
    day = utcnow().date().isoformat()
    assert "/today" in client.get(f"/admin/audit?from={day}&to={day}").get_data(as_text=True)
    page = client.get("/admin/audit?to=2000-01-01").get_data(as_text=True)
    assert "/today" not in page and 'value="2000-01-01"' in page


def test_admin_finds_certificates_by_holder_name_or_service_number(
    client, db, modules, make_user, login
):
    amina = make_user(full_name="Amina Haddad", service_number="GH-20417")
    other = make_user(full_name="Ivan Petrov", service_number="RU-555")
    mine, theirs = pass_module(amina), pass_module(other)
    pledge = pass_module(amina, "pledge")
    login(make_user(Role.ADMIN, unit=None))
    page = client.get("/admin/certificates?code=haddad").get_data(as_text=True)
    assert "2 certificates match <bdi>haddad</bdi>" in page
    assert mine.code in page and pledge.code in page and theirs.code not in page
    assert f'href="/admin/certificates?code={mine.code}"' in page
    # A service number finds its one certificate straight away.
    page = client.get("/admin/certificates?code=ru-555").get_data(as_text=True)
    assert f"Certificate <bdi>{theirs.code}</bdi>" in page and "/revoke" in page
    response = client.get("/admin/certificates?code=Nobody%20Here")
    assert response.status_code == 404
    assert "No certificate matches <bdi>Nobody Here</bdi>" in response.get_data(as_text=True)
    assert client.get("/admin/certificates?code=%25").status_code == 404


def test_revoking_asks_for_confirmation_first_and_changes_nothing_until_then(
    client, db, modules, make_user, login
):
    certificate = pass_module(make_user(full_name="Amina Haddad"))
    login(make_user(Role.ADMIN, unit=None))
    url = f"/admin/certificates/{certificate.code}/revoke"
    response = post(client, url, {"reason": REASON})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"Revoke certificate {certificate.code}?" in page and "Amina Haddad" in page
    assert REASON in page and 'name="confirm" value="yes"' in page and 'method="post"' in page
    assert f'href="/admin/certificates?code={certificate.code}"' in page  # keep it valid
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).revoked_at is None

    response = post(client, url, {"reason": REASON, "confirm": "yes"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).revocation_reason == REASON
    assert client.get(url).status_code == 405


def test_every_kind_of_audit_event_is_named_in_words():
    from app.admin.trail import action_label
    from app.models import AuditAction

    for action in AuditAction:
        assert action_label(action.value) != action.value, action


def test_audit_trail_shows_a_roster_imports_changes_as_before_and_after(
    client, db, make_user, login
):
    details = {
        "created": ["SN-1", "SN-2"],
        "updated": {"SN-3": {"full_name": ["Ana Diaz", "Ana Díaz"]}},
        "unchanged": 4,
    }
    admin = make_user(Role.ADMIN, unit=None)
    page = trail_page(client, db, login, admin, (AuditAction.ROSTER_IMPORTED, "7 rows", details))
    assert "Roster imported" in page
    assert "SN-1, SN-2" in page
    assert "SN-3: Full name: Ana Diaz → Ana Díaz" in page


def test_an_account_form_without_a_role_among_the_choices_changes_nothing(
    client, db, make_user, login
):
    admin = make_user(Role.ADMIN)
    person = make_user(Role.PEACEKEEPER)
    login(admin)
    form = {
        "category": person.category.value,
        "position": person.position.value,
        "unit": str(person.unit_id or 0),
        "is_active": "y",
    }
    for role in ({}, {"role": "superuser"}):
        response = post(client, f"/admin/users/{person.id}", {**form, **role})
        assert response.status_code == 422
        assert "Not a valid choice" in response.get_data(as_text=True)
        db.session.refresh(person)
        assert person.role == Role.PEACEKEEPER
