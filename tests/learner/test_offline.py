"""A module kept on the device, answered without a connection, its answers sent late.

What the device keeps is listed by the server, for the person alone; answers and a
submission kept on the device arrive late, once, from the attempt's owner only, with the
time they were given there (within bounds) and the time they arrived.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import itsdangerous.timed
import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from app.models import Completion, QuizAttempt
from app.models.types import utcnow
from tests.fixtures import answers_for, count, csrf_token, post, start

JSON = {"Accept": "application/json"}


def send(client, url: str, form: dict, token: str | None = None):
    """Post a form as the quiz's script does, reading JSON."""
    token = token or csrf_token(client, "/training/")
    return client.post(url, data={"csrf_token": token, **form}, headers=JSON)


def submit_late(client, attempt_id: int, form: dict, **extra):
    return send(client, f"/training/attempts/{attempt_id}", form, **extra)


def started_an_hour_ago(attempt_id: int) -> datetime:
    """Move an attempt's start an hour back, as if the learner had been answering since."""
    attempt = reread(attempt_id)
    attempt.started_at = utcnow() - timedelta(hours=1)
    _db.session.commit()
    return reread(attempt_id).started_at


def reread(attempt_id: int) -> QuizAttempt:
    _db.session.expire_all()
    attempt = _db.session.get(QuizAttempt, attempt_id)
    assert attempt is not None
    return attempt


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_keeping_lists_the_persons_own_pages_and_starts_the_quiz(
    client, db, modules, make_user, login
):
    login(make_user())
    response = post(client, "/training/basics/kept", headers=JSON)
    assert response.status_code == 200
    kept = response.get_json()
    [attempt] = _db.session.scalars(sa.select(QuizAttempt)).all()
    assert kept["quiz"] is True and kept["note"] is None
    assert kept["pages"] == [
        "/training/basics",
        *(f"/training/basics/sections/{n}" for n in range(1, kept["sections"] + 1)),
        "/training/basics/all",
        f"/training/attempts/{attempt.id}",
    ]
    assert kept["sections"] == 1
    names = {url.split("/")[-1].split(".")[0] for url in kept["assets"]}
    assert {"style", "offline", "quiz", "favicon"} <= names
    assert "/favicon.ico" in kept["assets"]
    assert "/manifest.webmanifest?lang=en" in kept["assets"]
    # Each page listed says it may be kept; so does the quiz, never its result.
    for url in kept["pages"]:
        assert client.get(url).headers["Keep-Offline"] == "yes", url
    # Keeping again continues the same attempt.
    assert post(client, "/training/basics/kept", headers=JSON).get_json()["pages"] == kept["pages"]
    assert count(QuizAttempt) == 1
    post(client, f"/training/attempts/{attempt.id}", answers_for(db, attempt.id))
    result = client.get(f"/training/attempts/{attempt.id}")
    assert "You passed" in result.get_data(as_text=True)
    assert "Keep-Offline" not in result.headers


def test_keeping_needs_a_post_with_its_token_for_a_module_of_ones_own(
    client, db, modules, make_user, login
):
    login(make_user())
    assert client.get("/training/basics/kept").status_code == 405
    assert client.post("/training/basics/kept", headers=JSON).status_code == 400
    assert post(client, "/training/police-only/kept", headers=JSON).status_code == 404
    assert count(QuizAttempt) == 0


def test_before_the_undertaking_the_quiz_is_not_kept_and_the_page_says_why(
    client, db, modules, make_user, login
):
    login(make_user())
    kept = post(client, "/training/pledge/kept", headers=JSON).get_json()
    assert kept["quiz"] is False
    assert kept["note"] == "Confirm the undertaking to keep the quiz on this device too."
    assert not any("/attempts/" in url for url in kept["pages"])
    assert count(QuizAttempt) == 0


def test_the_module_page_offers_to_keep_it_only_to_a_script(client, db, modules, make_user, login):
    login(make_user())
    page = client.get("/training/basics").get_data(as_text=True)
    begins = page.index('<section class="offline"')
    section = page[begins : page.index("</section>", begins)]
    # Hidden until offline.js finds a browser that can keep pages.
    assert re.search(r"\shidden\s", section.split(">")[0])
    assert 'action="/training/basics/kept"' in section and 'method="post"' in section
    assert "Keep this module on this device" in section and "Remove from this device" in section


def test_a_late_answer_set_records_when_it_was_given_and_when_it_arrived(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    given = started_an_hour_ago(attempt_id) + timedelta(minutes=10)
    before = utcnow()
    response = send(
        client,
        f"/training/attempts/{attempt_id}/answers",
        {"q1": "a", "q2": "b", "answered_at": iso(given)},
    )
    assert response.status_code == 200 and response.get_json()["saved"] is True
    attempt = reread(attempt_id)
    assert attempt.saved_answers == {"1": ["a"], "2": ["b"]}
    assert attempt.answered_at == given
    assert before <= attempt.arrived_at <= utcnow()
    assert attempt.saved_at == attempt.arrived_at


@pytest.mark.parametrize(
    ("shift", "bound"),
    [(timedelta(days=-3), "started"), (timedelta(days=3), "arrived")],
    ids=["before the start", "in the future"],
)
def test_a_device_clock_that_is_wrong_is_held_within_bounds(
    client, db, modules, make_user, login, in_pool_order, shift, bound
):
    login(make_user())
    attempt_id = start(client)
    started = started_an_hour_ago(attempt_id)
    form = {"q1": "a", "answered_at": iso(utcnow() + shift)}
    assert send(client, f"/training/attempts/{attempt_id}/answers", form).status_code == 200
    attempt = reread(attempt_id)
    assert attempt.answered_at == (started if bound == "started" else attempt.arrived_at)


def test_a_time_that_is_not_a_time_is_refused_with_a_reason(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    form = {"q1": "a", "answered_at": "yesterday"}
    response = send(client, f"/training/attempts/{attempt_id}/answers", form)
    assert response.status_code == 400
    message = "The time the answers were given is not a date and time (ISO 8601)."
    assert response.get_json() == {"saved": False, "message": message}
    response = submit_late(client, attempt_id, {**answers_for(db, attempt_id), **form})
    assert response.status_code == 400 and response.get_json()["message"] == message
    attempt = reread(attempt_id)
    assert attempt.saved_answers is None and attempt.submitted_at is None


def test_a_late_submission_is_graded_once_with_both_times(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    token = csrf_token(client, f"/training/attempts/{attempt_id}")
    pressed = started_an_hour_ago(attempt_id) + timedelta(minutes=50)
    form = {**answers_for(db, attempt_id), "answered_at": iso(pressed)}
    response = submit_late(client, attempt_id, form, token=token)
    assert response.status_code == 200
    assert response.get_json() == {
        "submitted": True,
        "message": "Your answers were submitted.",
        "result_url": f"/training/attempts/{attempt_id}",
    }
    attempt = reread(attempt_id)
    assert attempt.passed and attempt.score == 100
    assert attempt.answered_at == pressed and attempt.arrived_at == attempt.submitted_at
    first = attempt.submitted_at

    # Sent again (the connection dropped before the answer came back), with other answers.
    wrong = {**answers_for(db, attempt_id, False), "answered_at": iso(utcnow())}
    again = submit_late(client, attempt_id, wrong, token=token)
    assert again.status_code == 200
    assert again.get_json()["submitted"] is False
    assert again.get_json()["already_submitted"] is True
    assert again.get_json()["result_url"] == f"/training/attempts/{attempt_id}"
    attempt = reread(attempt_id)
    assert attempt.score == 100 and attempt.submitted_at == first
    assert attempt.answered_at == pressed
    assert count(Completion) == 1


def test_a_late_submission_missing_answers_is_refused_and_says_which(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    response = submit_late(client, attempt_id, {"q1": "a"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["submitted"] is False and "result_url" not in body
    assert body["errors"] == [f"Choose an answer to question {n}." for n in (2, 3, 4)]
    assert reread(attempt_id).submitted_at is None


def test_only_the_owner_sends_late_answers_to_an_attempt(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    form = answers_for(db, attempt_id)
    post(client, "/logout")
    login(make_user())
    assert submit_late(client, attempt_id, form).status_code == 404
    assert send(client, f"/training/attempts/{attempt_id}/answers", form).status_code == 404
    assert submit_late(client, attempt_id + 1000, form).status_code == 404
    attempt = reread(attempt_id)
    assert attempt.submitted_at is None and attempt.saved_answers is None


def test_a_late_submission_needs_the_token_of_the_session(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    response = client.post(
        f"/training/attempts/{attempt_id}", data=answers_for(db, attempt_id), headers=JSON
    )
    assert response.status_code == 400
    assert reread(attempt_id).submitted_at is None


def test_the_token_of_a_page_kept_for_hours_still_works(
    client, db, modules, make_user, login, in_pool_order, app, monkeypatch
):
    """The token is bound to the session, not to a time: a page kept all day still posts."""
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    login(make_user())
    attempt_id = start(client)
    token = csrf_token(client, f"/training/attempts/{attempt_id}")
    # Eight hours on for the signed token; the session itself is still open.
    later = int(datetime.now(UTC).timestamp()) + 8 * 3600
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda _: later)
    response = submit_late(client, attempt_id, answers_for(db, attempt_id), token=token)
    assert response.status_code == 200 and response.get_json()["submitted"] is True


def test_an_ordinary_submission_records_both_times_as_it_arrives(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id))
    attempt = reread(attempt_id)
    assert attempt.answered_at == attempt.arrived_at == attempt.submitted_at


def test_the_manifest_describes_the_application_in_the_pages_language(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=en">' in page
    response = client.get("/manifest.webmanifest?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    manifest = response.get_json(force=True)
    assert manifest["lang"] == "en" and manifest["dir"] == "ltr"
    assert manifest["scope"] == "/" and manifest["start_url"] == "/"
    assert manifest["name"] == "Blue Beret"
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon
    arabic = client.get("/manifest.webmanifest?lang=ar").get_json(force=True)
    assert arabic["lang"] == "ar" and arabic["dir"] == "rtl"
    assert arabic["description"] != manifest["description"]
    arabic_page = client.get("/login?lang=ar").get_data(as_text=True)
    assert 'href="/manifest.webmanifest?lang=ar"' in arabic_page


def test_the_service_worker_is_served_for_the_whole_site_and_checked_each_time(
    client, make_user, login, db
):
    response = client.get("/service-worker.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert b"Keep-Offline" in response.data
    again = client.get("/service-worker.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    # The same for a person signed in: not made no-store like their pages.
    login(make_user())
    assert client.get("/service-worker.js").headers["Cache-Control"] == "no-cache"
    assert client.get("/manifest.webmanifest?lang=en").headers["Cache-Control"] == (
        "public, max-age=86400"
    )


def test_the_script_that_keeps_pages_is_linked_only_for_a_person_signed_in(
    client, db, make_user, login
):
    assert "offline." not in client.get("/login").get_data(as_text=True)
    learner = make_user()
    login(learner)
    page = client.get("/training/").get_data(as_text=True)
    assert f'defer data-person="{learner.id}"></script>' in page
    assert '<script src="/static/offline.' in page


def test_signing_out_tells_the_browser_to_remove_what_it_kept(client, db, make_user, login):
    login(make_user())
    response = post(client, "/logout")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    # Only signing out: an ordinary page leaves the device as it is.
    assert "Clear-Site-Data" not in client.get("/login").headers
