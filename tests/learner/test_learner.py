"""The peacekeeper's journey: required modules, reading, quiz, result, retry."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import sqlalchemy as sa

from app.models import (
    Certificate,
    Completion,
    ModuleVersion,
    PersonnelCategory,
    Position,
    QuizAttempt,
)
from app.services import quiz, training
from tests.fixtures import (
    answers_for,
    count,
    load_revised_modules,
    post,
    shown_day,
    shown_moment,
    start,
)


def test_my_training_lists_modules_for_my_category_and_position(client, modules, make_user, login):
    soldier = make_user(category=PersonnelCategory.MILITARY_CONTINGENT)
    page = login(soldier).get("/training/").get_data(as_text=True)
    assert "Conduct basics" in page
    assert "Not started" in page
    assert "Policing with respect" not in page
    assert "Leading by example" not in page


def test_police_and_commanders_get_their_extra_modules(client, modules, make_user, login):
    officer = make_user(category=PersonnelCategory.FORMED_POLICE, position=Position.COMMANDER)
    page = login(officer).get("/training/").get_data(as_text=True)
    assert "Policing with respect" in page
    assert "Leading by example" in page


def test_module_page_shows_sanitised_lesson_and_contents(client, modules, make_user, login):
    page = login(make_user()).get("/training/basics/all").get_data(as_text=True)
    assert "Accept no gift." in page
    assert 'href="#the-rule"' in page  # table of contents
    assert "<script>" not in page and "javascript:" not in page
    # The lesson's own "# Conduct basics" is not shown again under the page's title.
    assert page.count("<h1") == 1


def test_module_not_required_for_me_is_not_found(client, modules, make_user, login):
    login(make_user())
    assert client.get("/training/police-only").status_code == 404


def test_quiz_page_draws_questions_without_revealing_answers(
    client, db, modules, make_user, login, in_pool_order
):
    login(make_user())
    attempt_id = start(client)
    page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert [q["id"] for q in attempt.questions] == ["1", "2", "3", "4"]
    assert page.count("<fieldset") == 4
    assert "Right:" not in page and "Wrong:" not in page and "correct" not in page.lower()
    # Question 3 alone takes several answers.
    assert page.count("Select all that apply") == 1
    assert page.index("Select all that apply") > page.index('id="question-3"')


def test_each_attempt_draws_its_own_order(db, modules, make_user):
    learner, version = make_user(), training.current_version("basics")
    orders = set()
    for _ in range(8):
        attempt = quiz.start_attempt(learner, version)
        orders.add(tuple((q["id"], *q["options"]) for q in attempt.questions))
        # Submitted, so that the next start draws anew rather than continuing it.
        assert quiz.submit_attempt(attempt, {})
    assert len(orders) > 1


def test_starting_again_continues_the_open_attempt(client, db, modules, make_user, login):
    login(make_user())
    first = start(client)
    assert start(client) == first
    assert count(QuizAttempt) == 1


def test_failing_shows_score_and_feedback_and_allows_retry(client, db, modules, make_user, login):
    login(make_user())
    attempt_id = start(client)
    response = post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id, False))
    assert response.status_code == 302
    page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    assert "You scored 0%" in page
    assert "Wrong: Ten Rules for Blue Helmets." in page
    assert "Try again" in page
    assert count(Completion) == 0
    assert "Not passed yet" in client.get("/training/").get_data(as_text=True)
    assert start(client) != attempt_id


def test_passing_records_completion_and_certificate(client, db, modules, make_user, login):
    user = make_user()
    login(user)
    attempt_id = start(client)
    post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id))
    page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    assert "You passed with 100%" in page
    assert "Download your certificate" in page

    completion = db.session.scalar(sa.select(Completion))
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert completion.user_id == user.id and completion.attempt_id == attempt_id
    assert attempt.passed and attempt.score == 100 and attempt.submitted_at is not None
    assert attempt.answers
    # 12 months of validity from the submission time.
    assert (
        timedelta(days=364) < completion.expires_at - completion.completed_at < timedelta(days=367)
    )
    assert 'badge-completed">Completed<' in client.get("/training/").get_data(as_text=True)
    # A valid completion is not retaken before its renewal window.
    assert post(client, "/training/basics/attempts").status_code == 302
    assert count(QuizAttempt) == 1


def test_unanswered_question_is_explained_and_nothing_recorded(
    client, db, modules, make_user, login
):
    login(make_user())
    attempt_id = start(client)
    form = answers_for(db, attempt_id)
    form.pop(next(iter(form)))
    response = post(client, f"/training/attempts/{attempt_id}", form)
    assert response.status_code == 422
    assert "Choose an answer to question" in response.get_data(as_text=True)
    assert db.session.get(QuizAttempt, attempt_id).submitted_at is None


def test_options_from_outside_the_question_are_refused(client, db, modules, make_user, login):
    login(make_user())
    attempt_id = start(client)
    form = {key: ["z"] for key in answers_for(db, attempt_id)}
    response = post(client, f"/training/attempts/{attempt_id}", form)
    assert response.status_code == 422
    assert "choose among the options shown" in response.get_data(as_text=True)


def test_submitting_twice_records_once(client, db, modules, make_user, login):
    login(make_user())
    attempt_id = start(client)
    post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id))
    post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id, False))
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt.score == 100
    assert count(Completion) == 1 and count(Certificate) == 1


def test_expired_completion_shows_expired_and_allows_retake(client, db, modules, make_user, login):
    login(make_user())
    attempt_id = start(client)
    post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id))
    completion = db.session.scalar(sa.select(Completion))
    completion.expires_at = completion.completed_at - timedelta(days=1)
    db.session.commit()
    assert "Expired" in client.get("/training/").get_data(as_text=True)
    assert start(client) != attempt_id


def test_new_version_keeps_the_version_a_completion_was_earned_on(
    client, db, modules, make_user, login, tmp_path
):
    login(make_user())
    attempt_id = start(client)
    post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id))
    first = db.session.scalar(sa.select(Completion)).module_version_id

    results = load_revised_modules(tmp_path / "modules")
    assert results["basics"].action == "updated" and results["basics"].version == 2

    current = db.session.scalar(
        sa.select(ModuleVersion).where(ModuleVersion.is_current, ModuleVersion.number == 2)
    )
    assert current is not None and "Accept no gift, ever." in current.body_html
    assert db.session.scalar(sa.select(Completion)).module_version_id == first
    assert "Accept no gift, ever." in client.get("/training/basics/all").get_data(as_text=True)


def test_revoked_module_says_take_it_again_and_can_be_retaken(
    client, db, modules, make_user, login
):
    from app.models import Role
    from app.services import certificates

    learner = make_user()
    login(learner)
    first = start(client)
    post(client, f"/training/attempts/{first}", answers_for(db, first))
    certificate = db.session.scalar(sa.select(Certificate))
    certificates.revoke(certificate, make_user(Role.ADMIN), "Misconduct finding, case 2026-114.")
    db.session.commit()
    message = f"Revoked on {shown_day(certificate.revoked_at)}: take the module again."

    index = client.get("/training/").get_data(as_text=True)
    assert message in index and 'badge-revoked">Revoked<' in index
    assert 'badge-completed">Completed<' not in index
    page = client.get("/training/basics").get_data(as_text=True)
    assert message in page and "Start the quiz" in page and "You passed this module" not in page

    again = start(client)
    assert again != first
    post(client, f"/training/attempts/{again}", answers_for(db, again))
    index = client.get("/training/").get_data(as_text=True)
    assert 'badge-completed">Completed<' in index and message not in index


# The key cannot be harvested by failing ---------------------------------------------------

WAIT = "You did not pass your last two attempts."


class Options(NamedTuple):
    right: list[str]
    wrong: list[str]


def option_ids(db, slug="basics"):
    """Return, per question of a module, its right and its wrong option ids."""
    version = training.current_version(slug)
    return {
        q["id"]: Options(
            [o["id"] for o in q["options"] if o["correct"]],
            [o["id"] for o in q["options"] if not o["correct"]],
        )
        for q in version.quiz
    }


def fail(client, db):
    attempt_id = start(client)
    post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id, False))
    return attempt_id


def test_failed_attempt_says_which_questions_were_wrong_but_not_the_right_answers(
    client, db, modules, make_user, login, in_pool_order
):
    key = option_ids(db)
    mostly_wrong = {  # of questions 1 to 4: one right and three not, 25%
        "q1": key["1"].right,
        "q2": key["2"].wrong[:1],
        "q3": key["3"].right[:1],  # one of its two right options only
        "q4": key["4"].wrong[:1],
    }
    login(make_user())
    attempt_id = start(client)
    post(client, f"/training/attempts/{attempt_id}", mostly_wrong)
    page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    assert "You scored 25%" in page
    assert page.count('class="verdict">Not right<') == 3
    assert page.count('class="verdict">Right<') == 1
    # Why the two wrong options chosen are wrong; nothing about the options not chosen.
    assert page.count("Wrong: Ten Rules for Blue Helmets.") == 2
    assert page.count("Right: Ten Rules for Blue Helmets.") == 1  # question 1, answered right
    assert "Not every right answer was chosen." in page  # question 3
    assert "correct answer" not in page and 'class="correct' not in page
    assert page.count("(your answer)") == 4


def test_passed_attempt_shows_the_whole_key(client, db, modules, make_user, login, in_pool_order):
    login(make_user())
    attempt_id = start(client)
    post(client, f"/training/attempts/{attempt_id}", answers_for(db, attempt_id))
    page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    # Questions 1 to 4 have five right options and five wrong; every feedback is shown.
    assert page.count("(correct answer)") == 5
    assert page.count("Wrong: Ten Rules for Blue Helmets.") == 5


def test_two_failures_in_a_row_make_the_learner_wait_before_the_next_attempt(
    client, db, modules, make_user, login
):
    login(make_user())
    fail(client, db)
    second = fail(client, db)
    last_failure = db.session.get(QuizAttempt, second).submitted_at
    until = last_failure + timedelta(minutes=10)
    if until.second or until.microsecond:  # shown to the minute, never too early
        until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)

    result = client.get(f"/training/attempts/{second}").get_data(as_text=True)
    assert WAIT in result and f"at {shown_moment(until)} UTC" in result
    assert "Try again" not in result
    response = post(client, "/training/basics/attempts")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/training/basics#quiz-heading")
    assert count(QuizAttempt) == 2
    page = client.get("/training/basics").get_data(as_text=True)
    assert WAIT in page and "in 10 minutes" in page and "Start the quiz" not in page

    # Ten minutes later.
    for attempt in db.session.scalars(sa.select(QuizAttempt)):
        attempt.submitted_at -= timedelta(minutes=10)
    db.session.commit()
    assert "Start the quiz" in client.get("/training/basics").get_data(as_text=True)
    assert start(client) != second


def test_the_wait_comes_from_the_configuration(
    client, db, modules, make_user, login, app, monkeypatch
):
    login(make_user())
    fail(client, db)
    fail(client, db)
    monkeypatch.setitem(app.config, "QUIZ_COOLDOWN_MINUTES", 30)
    assert "in 30 minutes" in client.get("/training/basics").get_data(as_text=True)
    monkeypatch.setitem(app.config, "QUIZ_COOLDOWN_MINUTES", 0)
    assert WAIT not in client.get("/training/basics").get_data(as_text=True)
    fail(client, db)
    assert count(QuizAttempt) == 3


def test_only_failures_in_a_row_make_the_learner_wait(client, db, modules, make_user, login):
    from app.models import Role
    from app.services import certificates

    learner = make_user()
    login(learner)
    fail(client, db)
    passed = start(client)
    post(client, f"/training/attempts/{passed}", answers_for(db, passed))
    certificate = db.session.scalar(sa.select(Certificate))
    certificates.revoke(certificate, make_user(Role.ADMIN), "Entered in error, case 2026-7.")
    db.session.commit()
    fail(client, db)
    assert quiz.cooldown(learner, training.current_version("basics")) is None
    assert WAIT not in client.get("/training/basics").get_data(as_text=True)


def test_an_attempt_drawn_before_the_wait_cannot_be_submitted_during_it(
    client, db, modules, make_user, login, tmp_path
):
    learner = make_user()
    login(learner)
    version = training.current_version("basics")
    # Drawn ahead, before the failures: one attempt is open per version, so it is left
    # open at the version the module had before it was revised.
    stocked = quiz.start_attempt(learner, version).id
    db.session.commit()
    load_revised_modules(tmp_path / "modules")
    fail(client, db)
    fail(client, db)
    response = post(client, f"/training/attempts/{stocked}", answers_for(db, stocked, False))
    assert response.status_code == 302
    assert WAIT in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(QuizAttempt, stocked).submitted_at is None
