"""A quiz that survives the field: one open attempt, answers saved as the learner goes.

Leaving the quiz (a dropped connection, a closed tab, a sign-out) loses nothing: starting
again continues the same attempt, with the answers saved so far checked. Only the form
submitted is graded, once.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from app.models import Completion, QuizAttempt
from app.services import quiz, training
from tests.fixtures import answers_for, count, csrf_token, post, start

JSON = {"Accept": "application/json"}


def save(client, attempt_id: int, form: dict, token: str | None = None):
    """Save answers as the quiz's script does: the form, a JSON answer."""
    token = token or csrf_token(client, f"/training/attempts/{attempt_id}")
    return client.post(
        f"/training/attempts/{attempt_id}/answers",
        data={"csrf_token": token, **form},
        headers=JSON,
    )


def saved(db, attempt_id: int) -> dict | None:
    db.session.expire_all()
    return db.session.get(QuizAttempt, attempt_id).saved_answers


def checked(page: str, question: str, option: str) -> bool:
    return f'value="{option}" id="q{question}-{option}" checked' in page


def test_starting_twice_continues_the_same_attempt_in_the_service(db, modules, make_user):
    learner, version = make_user(), training.current_version("basics")
    first = quiz.start_attempt(learner, version)
    assert quiz.start_attempt(learner, version).id == first.id
    assert count(QuizAttempt) == 1
    # Once it is submitted, the next start draws a new attempt.
    assert quiz.submit_attempt(first, {})
    assert quiz.start_attempt(learner, version).id != first.id


def test_two_starts_at_once_give_one_attempt(db, modules, make_user, monkeypatch):
    learner, version = make_user(), training.current_version("basics")
    first = quiz.start_attempt(learner, version)
    db.session.commit()
    # The second start read no open attempt, as if the first had not committed yet.
    real, reads = quiz.open_attempt, []

    def not_yet_committed(*args):
        reads.append(args)
        return None if len(reads) == 1 else real(*args)

    monkeypatch.setattr(quiz, "open_attempt", not_yet_committed)
    assert quiz.start_attempt(learner, version).id == first.id
    assert count(QuizAttempt) == 1


def test_the_database_refuses_a_second_open_attempt(db, modules, make_user):
    learner, version = make_user(), training.current_version("basics")
    first = quiz.start_attempt(learner, version)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(QuizAttempt(user=learner, module_version_id=version.id, questions=[]))
    assert quiz.submit_attempt(first, {})
    db.session.add(QuizAttempt(user=learner, module_version_id=version.id, questions=[]))
    db.session.flush()


def test_the_quiz_numbers_questions_and_lists_those_answered(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    save(client, attempt_id, {"q2": "a"})
    page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    assert "Question 1 of 4" in page and "Question 4 of 4" in page
    begins = page.index('class="quiz-progress"')
    progress = page[begins : page.index("</nav>", begins)]
    assert progress.count('href="#question-') == 4
    assert '<a href="#question-2">Question 2</a>: <span class="answer-state answered"' in progress
    assert progress.count('<span class="answer-state" data-question') == 3
    assert progress.count(">not answered yet<") == 3


def test_saving_without_javascript_keeps_the_answers_over_a_sign_out(
    client, db, modules, make_user, login, in_pool_order
):
    learner = make_user()
    login(learner)
    attempt_id = start(client)
    response = post(
        client, f"/training/attempts/{attempt_id}/answers", {"q1": "a", "q3": ["a", "b"]}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/training/attempts/{attempt_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved. Your answers are kept until you submit them" in page
    assert checked(page, "1", "a") and checked(page, "3", "a") and checked(page, "3", "b")
    assert saved(db, attempt_id) == {"1": ["a"], "3": ["a", "b"]}
    assert db.session.get(QuizAttempt, attempt_id).submitted_at is None

    post(client, "/logout")
    login(learner)
    assert start(client) == attempt_id
    page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    assert checked(page, "1", "a") and checked(page, "3", "b")
    assert not checked(page, "1", "b") and not checked(page, "2", "a")


def test_the_owner_saves_each_change_in_the_background(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    token = csrf_token(client, f"/training/attempts/{attempt_id}")
    response = save(client, attempt_id, {"q1": "b"}, token)
    assert response.status_code == 200
    assert response.get_json()["saved"] is True and response.get_json()["message"] == "Saved"
    # The latest state of the form replaces what was saved before.
    assert save(client, attempt_id, {"q1": "a", "q2": "c"}, token).status_code == 200
    assert saved(db, attempt_id) == {"1": ["a"], "2": ["c"]}
    assert db.session.get(QuizAttempt, attempt_id).saved_at is not None


def test_another_person_cannot_save_on_an_attempt(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    post(client, "/logout")
    login(make_user())
    token = csrf_token(client, "/training/")
    assert save(client, attempt_id, {"q1": "a"}, token).status_code == 404
    assert saved(db, attempt_id) is None


@pytest.mark.parametrize(
    "form",
    [
        {"q1": "z"},  # not an option of the question
        {"q1": "c"},  # an option of another question
        {"q1": ["a", "b"]},  # two answers to a question that takes one
    ],
)
def test_options_not_shown_are_refused_with_a_reason(
    client, db, modules, make_user, login, in_pool_order, form
):
    login(make_user())
    attempt_id = start(client)
    save(client, attempt_id, {"q2": "a"})
    response = save(client, attempt_id, form)
    assert response.status_code == 400
    assert response.get_json() == {
        "saved": False,
        "message": "Question 1: choose among the options shown.",
    }
    assert saved(db, attempt_id) == {"2": ["a"]}


def test_a_save_after_the_submission_is_refused(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    token = csrf_token(client, f"/training/attempts/{attempt_id}")
    assert save(client, attempt_id, {"q1": "b"}, token).status_code == 200
    post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id))
    # A save sent before the submission, arriving after it.
    response = save(client, attempt_id, {"q1": "a", "q2": "b"}, token)
    assert response.status_code == 409
    assert "already been submitted" in response.get_json()["message"]
    assert saved(db, attempt_id) == {"1": ["b"]}
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt.passed and attempt.answers["2"] == ["a"]
    # Without JavaScript, the learner is shown the result.
    response = post(client, f"/training/attempts/{attempt_id}/answers", {"q1": "a"})
    assert response.headers["Location"].endswith(f"/training/attempts/{attempt_id}")
    assert "You passed with 100%" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_saving_needs_the_csrf_token(client, db, modules, make_user, login, in_pool_order):
    login(make_user())
    attempt_id = start(client)
    response = client.post(
        f"/training/attempts/{attempt_id}/answers", data={"q1": "a"}, headers=JSON
    )
    assert response.status_code == 400
    assert saved(db, attempt_id) is None


def test_saving_needs_a_post(client, db, modules, make_user, login):
    login(make_user())
    attempt_id = start(client)
    assert client.get(f"/training/attempts/{attempt_id}/answers?q1=a").status_code == 405


def test_the_submitted_form_is_graded_not_the_saved_answers(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    right = answers_for(db, attempt_id)
    assert save(client, attempt_id, right).status_code == 200
    response = post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id, False))
    assert response.status_code == 302
    attempt = _db.session.get(QuizAttempt, attempt_id)
    assert attempt.score == 0 and not attempt.passed
    assert count(Completion) == 0
    # Submitting twice still records once.
    assert post(client, f"/training/attempts/{attempt_id}", right).status_code == 302
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt_id).score == 0


def test_the_migration_keeps_the_latest_of_several_open_attempts(tmp_path):
    """Open attempts drawn again before the rule: the one the quiz continued is kept."""
    import sqlite3

    from flask_migrate import upgrade

    from app import create_app
    from tests.fixtures import TestingConfig

    path = tmp_path / "before.db"

    class Before(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"

    app = create_app(Before)
    with app.app_context():
        upgrade(directory=app.root_path + "/migrations", revision="5b7d3e91c4a2")
        _db.engine.dispose()
    # (person, version, started, submitted): two open at once, twice; one submitted.
    rows = [
        (1, 1, "2026-12-01 10:00:00", None),
        (1, 1, "2026-12-01 11:00:00", None),
        (1, 1, "2026-12-01 09:00:00", "2026-12-01 09:30:00"),
        (1, 2, "2026-12-01 10:00:00", None),
        (2, 1, "2026-12-01 10:00:00", None),
        (2, 1, "2026-12-01 10:00:00", None),
    ]
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO quiz_attempt (user_id, module_version_id, questions, language,"
            " started_at, submitted_at) VALUES (?, ?, '[]', 'en', ?, ?)",
            rows,
        )
    with app.app_context():
        upgrade(directory=app.root_path + "/migrations")
        _db.engine.dispose()
    with sqlite3.connect(path) as connection:
        kept = connection.execute("SELECT id FROM quiz_attempt ORDER BY id").fetchall()
        assert kept == [(2,), (3,), (4,), (6,)]
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute(
                "INSERT INTO quiz_attempt (user_id, module_version_id, questions, language,"
                " started_at) VALUES (1, 1, '[]', 'en', '2026-12-02 08:00:00')"
            )
