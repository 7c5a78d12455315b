"""Concurrent submissions of one attempt are recorded exactly once."""

from __future__ import annotations

import threading

import pytest

from app.models import Certificate, Completion, QuizAttempt
from tests.fixtures import answers_for, count, csrf_token, start

# Twenty threads, each with its own connection, must see what the others commit.
pytestmark = pytest.mark.committing


def test_twenty_concurrent_submissions_record_one_attempt_and_completion(
    app, client, db, modules, make_user, login
):
    login(make_user())
    attempt_id = start(client)
    token = csrf_token(client, "/training/")
    cookie = client.get_cookie("session").value
    form = {"csrf_token": token, **answers_for(db, attempt_id)}
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def submit() -> None:
        browser = app.test_client()
        browser.set_cookie("session", cookie)
        barrier.wait()
        statuses.append(browser.post(f"/training/attempts/{attempt_id}", data=form).status_code)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * 20
    assert count(QuizAttempt) == 1
    assert count(Completion) == 1
    assert count(Certificate) == 1
