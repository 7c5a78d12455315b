"""Signing in and out: hashed passwords, CSRF, safe redirects, sessions that really end."""

from __future__ import annotations

import pytest

from app.auth.views import is_local_path
from tests.fixtures import PASSWORD, post


def test_sign_in_lands_on_my_training(client, make_user):
    user = make_user()
    response = post(client, "/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/training/"
    assert user.password_hash and PASSWORD not in user.password_hash


def test_sign_in_with_service_number_in_any_case(client, make_user):
    make_user(service_number="ABC-123")
    response = post(client, "/login", {"username": "abc-123", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_is_refused_with_a_clear_message(client, make_user):
    user = make_user()
    response = post(client, "/login", {"username": user.username, "password": "nope"})
    assert response.status_code == 401
    assert "The username or password is not right" in response.get_data(as_text=True)
    assert client.get("/training/").status_code == 302


def test_disabled_account_cannot_sign_in(client, make_user):
    user = make_user(is_active=False)
    response = post(client, "/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 401


def test_empty_form_says_what_to_fill_in(client):
    page = post(client, "/login", {}).get_data(as_text=True)
    assert "Enter your username." in page and "Enter your password." in page
    assert 'aria-invalid="true"' in page


def test_post_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_sign_out_requires_post(client, make_user, login):
    login(make_user())
    assert client.get("/logout").status_code == 405
    assert client.get("/training/").status_code == 200


def test_replayed_session_cookie_is_refused_after_sign_out(client, app, make_user, login):
    login(make_user())
    stolen = client.get_cookie("session").value
    assert post(client, "/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/training/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_replayed_remember_cookie_is_refused_after_sign_out(client, app, make_user):
    user = make_user()
    post(client, "/login", {"username": user.username, "password": PASSWORD, "remember": "y"})
    remember = client.get_cookie("remember_token").value
    post(client, "/logout")
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert thief.get("/training/").status_code == 302


def test_remember_cookie_signs_in_while_session_is_live(client, app, make_user):
    user = make_user()
    post(client, "/login", {"username": user.username, "password": PASSWORD, "remember": "y"})
    other = app.test_client()
    other.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert other.get("/training/").status_code == 200


def test_next_goes_to_a_local_page(client, make_user):
    user = make_user()
    response = post(
        client, "/login?next=/verify", {"username": user.username, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/verify"


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/\\evil.example", "https://evil.example/", "/\x00/evil", "/\t/evil",
     "javascript:alert(1)", "evil.example", ""],
)  # fmt: skip
def test_next_never_leaves_the_site(client, make_user, target):
    user = make_user()
    response = post(
        client, "/login", {"username": user.username, "password": PASSWORD},
        query_string={"next": target},
    )  # fmt: skip
    assert response.headers["Location"] == "/training/"
    assert not is_local_path(target)


def test_signing_in_gives_a_new_session(client, make_user):
    user = make_user()
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    post(client, "/login", {"username": user.username, "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_each_role_lands_on_its_home(client, make_user):
    from app.models import Role

    homes = {
        Role.PEACEKEEPER: "/training/",
        Role.COORDINATOR: "/coordinator/",
        Role.COMMANDER: "/commander/",
        Role.ADMIN: "/admin/",
    }
    for role, home in homes.items():
        user = make_user(role)
        response = post(client, "/login", {"username": user.username, "password": PASSWORD})
        assert response.headers["Location"] == home
        post(client, "/logout")
