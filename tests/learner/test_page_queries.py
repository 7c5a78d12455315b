"""The learner's pages make a fixed number of queries, however long the person's history.

The person takes three modules and has failed and passed each, with certificates, and
the count stays the same when more history is added: a query per module, attempt or
certificate would show. Each page is requested once before counting, as the first
request of an instance reads the content it then keeps. Module content is never read
again: a page that reads a stored version's lesson or quiz fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
import sqlalchemy as sa

from app.models import Certificate, Completion, PersonnelCategory, Position, QuizAttempt, User
from app.services import attestation, quiz, training
from tests.fixtures import answers_for, csrf_token, pass_module, reads_module_content

# Counted as production counts them: without the rolled-back test's own savepoints.
pytestmark = pytest.mark.committing

# Every page first reads the person, with the content stamp and their mission in the same
# query.
# The plan (state, due date, next action of each module) adds one, where the person is in
# each lesson: the open attempt comes with the attempts, the due date from the person, the
# certificate with the completions.
MY_TRAINING = 4  # + completions with certificates, attempts and undertakings, reading
MODULE_PAGE = 4  # + attempts at the module, completions, how far the person has read it
# A section, and the whole module on one page: content only, none of it read per request
# (the person's mission, where the lesson ends in a module that shows its annex, came with
# the person).
SECTION = 1
WHOLE_MODULE = 1
# + the conditional UPDATE of the person's reading (an INSERT only the first time).
NEXT_SECTION = 2
UNDERTAKING = 1  # + the undertaking, on the page of a module that asks for one
QUIZ = 3  # + the attempt, whether a session's printed sheet holds it
RESULT = 3  # + the attempt, its certificate (or, failed, the wait before the next)
# + the attempt, whether a session's printed sheet holds it, the wait, the conditional
# UPDATE, the completion, the training record, the unit named on the certificate, the
# certificate, and two audit entries (each reading the chain's head, then one INSERT).
SUBMIT_PASS = 13
# Stored: + the certificate (whose it is), then the stored file with its bytes.
CERTIFICATE_DOWNLOAD = 3
# Unchanged since it was stored: + the certificates it lists, the unit it names, the
# stored file with its bytes, and the download's audit entry (the chain's head, then one
# INSERT).
RECORD_DOWNLOAD = 6


def fail(person: User, slug: str) -> QuizAttempt:
    """Have the person submit an attempt at a module with no answer right."""
    version = training.current_version(slug)
    assert version is not None
    attempt = quiz.start_attempt(person, version)
    assert quiz.submit_attempt(attempt, {})
    return attempt


def add_history(db, person: User) -> None:
    """Give the person a failure and a pass, with its certificate, in every module."""
    for status in training.module_statuses(person):
        fail(person, status.version.slug)
        pass_module(person, status.version.slug)


@pytest.fixture
def veteran(db, modules, make_user) -> User:
    """A commander, with three modules to take, who failed and passed each of them."""
    person = make_user(category=PersonnelCategory.MILITARY_CONTINGENT, position=Position.COMMANDER)
    statuses = training.module_statuses(person)
    assert {s.version.slug for s in statuses} == {"basics", "leaders", "pledge"}
    pledge = training.current_version("pledge")
    assert pledge is not None
    attestation.attest(person, pledge)
    add_history(db, person)
    return person


def counted(count_queries, request: Callable[[], object]) -> list[str]:
    """Return the statements one request makes, after a first request like it."""
    request()
    with count_queries() as statements:
        request()
    return statements


def assert_fixed(db, person, count_queries, request, expected: int) -> None:
    """Check the request's queries, then again once the person has more history."""
    for _ in range(2):
        statements = counted(count_queries, request)
        assert len(statements) == expected, "\n".join(statements)
        assert not reads_module_content(statements)
        add_history(db, person)


def test_my_training_makes_a_fixed_number_of_queries(client, db, veteran, login, count_queries):
    login(veteran)
    assert_fixed(db, veteran, count_queries, lambda: client.get("/training/"), MY_TRAINING)


@pytest.mark.parametrize(
    ("slug", "expected"), [("basics", MODULE_PAGE), ("pledge", MODULE_PAGE + UNDERTAKING)]
)
def test_the_module_page_makes_a_fixed_number_of_queries(
    client, db, veteran, login, count_queries, slug, expected
):
    login(veteran)
    assert_fixed(db, veteran, count_queries, lambda: client.get(f"/training/{slug}"), expected)


def test_the_quiz_makes_a_fixed_number_of_queries(client, db, veteran, login, count_queries):
    login(veteran)
    version = training.current_version("basics")
    assert version is not None
    for _ in range(2):
        # Drawn afresh each time: the history added submits the open attempt.
        attempt_id = quiz.start_attempt(veteran, version).id
        db.session.commit()
        statements = counted(count_queries, partial(client.get, f"/training/attempts/{attempt_id}"))
        assert len(statements) == QUIZ, "\n".join(statements)
        assert not reads_module_content(statements)
        add_history(db, veteran)


def test_a_passing_submission_makes_a_fixed_number_of_queries(
    client, db, veteran, login, count_queries
):
    login(veteran)
    token = csrf_token(client, "/training/")
    version = training.current_version("basics")
    assert version is not None

    def submit(attempt_id: int) -> None:
        form = {"csrf_token": token, **answers_for(db, attempt_id)}
        response = client.post(f"/training/attempts/{attempt_id}", data=form)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/training/attempts/{attempt_id}")

    def drawn() -> int:
        attempt_id = quiz.start_attempt(veteran, version).id
        db.session.commit()
        return attempt_id

    # Drawn beforehand, one open at a time: two submissions (the first uncounted) before
    # and after more history.
    for _ in range(2):
        submit(drawn())
        attempt_id = drawn()
        form = {"csrf_token": token, **answers_for(db, attempt_id)}
        with count_queries() as statements:
            response = client.post(f"/training/attempts/{attempt_id}", data=form)
        assert response.status_code == 302
        assert len(statements) == SUBMIT_PASS, "\n".join(statements)
        assert not reads_module_content(statements)
        add_history(db, veteran)


@pytest.mark.parametrize("passed", [True, False])
def test_the_result_makes_a_fixed_number_of_queries(
    client, db, veteran, login, count_queries, passed
):
    login(veteran)
    attempt_id = (
        pass_module(veteran).completion.attempt_id if passed else fail(veteran, "basics").id
    )
    db.session.commit()
    url = f"/training/attempts/{attempt_id}"
    assert_fixed(db, veteran, count_queries, lambda: client.get(url), RESULT)


@pytest.mark.parametrize(("path", "expected"), [("sections/1", SECTION), ("all", WHOLE_MODULE)])
def test_a_section_and_the_whole_module_make_a_fixed_number_of_queries(
    client, db, veteran, login, count_queries, path, expected
):
    login(veteran)
    url = f"/training/basics/{path}"
    assert_fixed(db, veteran, count_queries, lambda: client.get(url), expected)


def test_going_to_the_next_section_makes_a_fixed_number_of_queries(
    client, db, veteran, login, count_queries
):
    login(veteran)
    token = csrf_token(client, "/training/")

    def next_section() -> None:
        response = client.post("/training/basics/sections", data={"csrf_token": token, "to": 1})
        assert response.status_code == 302

    assert_fixed(db, veteran, count_queries, next_section, NEXT_SECTION)


def pdf_download(client, url: str) -> Callable[[], None]:
    def download() -> None:
        response = client.get(url)
        assert response.status_code == 200
        assert response.data.startswith(b"%PDF")

    return download


def test_a_stored_certificate_download_makes_a_fixed_number_of_queries(
    client, db, veteran, login, count_queries
):
    login(veteran)
    code = db.session.scalar(
        sa.select(Certificate.code).join(Completion).where(Completion.user_id == veteran.id)
    )
    url = f"/training/certificates/{code}.pdf"
    assert_fixed(db, veteran, count_queries, pdf_download(client, url), CERTIFICATE_DOWNLOAD)


def test_an_unchanged_record_download_makes_a_fixed_number_of_queries(
    client, db, veteran, login, count_queries
):
    login(veteran)
    download = pdf_download(client, "/training/record.pdf")
    assert_fixed(db, veteran, count_queries, download, RECORD_DOWNLOAD)
