"""The published content each instance keeps in memory, and the stamp that renews it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.models import Completion, ContentStamp, PersonnelCategory, Position, QuizAttempt
from app.services import content, training
from app.services.content import published
from tests.fixtures import (
    DATA,
    PASSWORD,
    answers_for,
    load_revised_modules,
    pass_module,
    post,
    reads_module_content,
    start,
    write_revised_modules,
)

ROOT = Path(__file__).parents[2]


def flask_modules_sync(app, folder: Path) -> str:
    """Run `flask modules sync` in a process of its own, on the test database."""
    env = {key: value for key, value in os.environ.items() if key != "APP_CONFIG"}
    env |= {
        "MODULES_DIR": str(folder),
        "DATABASE_URL": str(app.config["SQLALCHEMY_DATABASE_URI"]),
        "SECRET_KEY": "sync-test-secret-" + "k" * 32,
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "modules", "sync"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def stamp(db) -> str | None:
    return db.session.scalar(sa.select(ContentStamp.stamp))


# A separate process changes the content and the app must see its commit.
@pytest.mark.committing
def test_a_sync_in_another_process_is_seen_by_the_running_app_at_its_next_request(
    app, client, db, modules, make_user, login, tmp_path
):
    login(make_user())
    page = client.get("/training/basics/all").get_data(as_text=True)
    assert "Accept no gift." in page and "ever" not in page

    output = flask_modules_sync(app, write_revised_modules(tmp_path / "revised"))

    assert "basics: updated (version 2)" in output
    assert "Accept no gift, ever." in client.get("/training/basics/all").get_data(as_text=True)


@pytest.mark.committing
def test_a_sync_that_changes_nothing_keeps_every_copy(
    app, client, db, modules, make_user, login, count_queries
):
    login(make_user())
    client.get("/training/basics")
    before = stamp(db)

    output = flask_modules_sync(app, DATA / "modules")

    assert "basics: unchanged (version 1)" in output
    assert stamp(db) == before
    with count_queries() as statements:
        assert client.get("/training/basics").status_code == 200
    assert not reads_module_content(statements)


def test_the_content_is_read_once_and_again_after_a_change(
    client, db, modules, make_user, login, tmp_path, count_queries
):
    login(make_user())
    client.get("/training/")
    with count_queries() as statements:
        client.get("/training/")
        client.get("/training/basics")
    assert not reads_module_content(statements)

    write_revised_modules(tmp_path / "revised")
    content.sync_modules(tmp_path / "revised")
    db.session.commit()

    with count_queries() as statements:
        page = client.get("/training/basics/all").get_data(as_text=True)
    assert "Accept no gift, ever." in page
    assert reads_module_content(statements)


def test_each_person_gets_their_own_modules_and_status_from_the_shared_copy(
    app, client, db, modules, make_user, login
):
    soldier = make_user(category=PersonnelCategory.MILITARY_CONTINGENT)
    pass_module(soldier)
    login(soldier)
    officer = app.test_client()
    officer_account = make_user(
        category=PersonnelCategory.FORMED_POLICE, position=Position.COMMANDER
    )
    post(officer, "/login", {"username": officer_account.username, "password": PASSWORD})
    for _ in range(2):
        mine = client.get("/training/").get_data(as_text=True)
        theirs = officer.get("/training/").get_data(as_text=True)
        assert "Conduct basics" in mine and 'badge-completed">Completed<' in mine
        assert "Policing with respect" not in mine and "Leading by example" not in mine
        assert "Policing with respect" in theirs and "Leading by example" in theirs
        assert "Conduct basics" in theirs and 'badge-completed">Completed<' not in theirs


def test_the_shared_copy_cannot_be_changed_by_its_readers(db, modules):
    version = training.current_version("basics")
    with pytest.raises(FrozenInstanceError):
        version.title = "Changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        version.quiz[0]["title_html"] = "Changed"  # type: ignore[index]
    with pytest.raises(TypeError):
        version.quiz[0]["options"][0]["correct"] = False  # type: ignore[index]


# Threads, each with its own connection, read what the test commits.
@pytest.mark.committing
def test_threads_that_find_the_content_changed_read_it_once(app, db, modules, monkeypatch):
    reads: list[str | None] = []
    snapshot = published.Snapshot

    class Counted(snapshot):  # type: ignore[misc, valid-type]
        def __init__(self, stamp: str | None) -> None:
            reads.append(stamp)
            super().__init__(stamp)

    monkeypatch.setattr(published, "Snapshot", Counted)
    published.bump()
    db.session.commit()
    barrier = threading.Barrier(8)
    titles: list[str] = []

    def read() -> None:
        with app.app_context():
            barrier.wait()
            version = published.current_version("basics")
            assert version is not None
            titles.append(version.title)
            db.session.remove()

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert titles == ["Conduct basics"] * 8
    assert len(reads) == 1


def test_an_attempt_drawn_before_a_revision_is_graded_and_shown_on_its_own_version(
    client, db, modules, make_user, login, tmp_path
):
    login(make_user())
    attempt_id = start(client)
    answers = answers_for(db, attempt_id)
    drawn_on = db.session.get(QuizAttempt, attempt_id).module_version_id
    load_revised_modules(tmp_path / "revised")
    assert training.current_version("basics").id != drawn_on

    response = post(client, f"/training/attempts/{attempt_id}", answers)
    assert response.status_code == 302
    page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    assert "You passed with 100%" in page
    completion = db.session.scalar(sa.select(Completion))
    assert completion.module_version_id == drawn_on


def test_a_context_that_outlives_a_sync_such_as_a_workers_sees_it(app, db, modules, tmp_path):
    before = training.current_version("basics")
    with app.app_context():  # a command elsewhere: `flask modules sync`
        load_revised_modules(tmp_path / "revised")
    after = training.current_version("basics")
    assert after is not None and before is not None
    assert after.number == before.number + 1 and "Accept no gift, ever." in after.body_html
