"""The report counts the database keeps: equal to people and their records, whatever
writes them and however many days pass."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.models import ReportCount, Role, TrainingRecord, User
from app.models import reports as report_models
from app.models.types import utcnow
from app.services import certificates, reporting, roster, training
from app.services.reporting import Cutoffs, Filters, State, source, summary
from tests.fixtures import count, csv_file, move_expiry, pass_module


def module_id(slug="basics"):
    return training.current_version(slug).module_id


def assert_counts_match(cutoffs=None):
    """The summary, brought to the cutoffs' moment, equals counting from the source."""
    cutoffs = cutoffs or Cutoffs.at()
    assert summary.differences(cutoffs) == [], cutoffs
    # Not two empty answers: people are counted.
    assert source.counts(Filters(), cutoffs)


@pytest.fixture
def people(db, modules, unit, make_user):
    """People in every state of the basics module, in a unit with a sub-unit."""
    today = date.today()
    found = {
        "complete": make_user(full_name="Zara Complete", deployment_date=today + timedelta(200)),
        "expiring": make_user(full_name="Yusuf Expiring", deployment_date=today + timedelta(200)),
        "overdue": make_user(full_name="Xena Overdue", deployment_date=today - timedelta(1)),
        "pending": make_user(full_name="Walter Pending", deployment_date=today + timedelta(20)),
        "undated": make_user(full_name="Uma Undated"),
    }
    pass_module(found["complete"])
    pass_module(found["expiring"])
    move_expiry(found["expiring"], module_id(), utcnow() + timedelta(days=10))
    return found


def test_states_are_named_alike_in_the_database_and_the_reports():
    assert [state.value for state in State] == report_models.STATES


def test_counts_follow_completions_and_revocations(db, people, make_user):
    assert_counts_match()
    certificate = pass_module(people["overdue"])
    pass_module(people["overdue"], "pledge")
    assert_counts_match()
    admin = make_user(Role.ADMIN, unit=None)
    certificates.revoke(certificate, admin, "Recorded for the wrong person.")
    db.session.commit()
    assert_counts_match()
    cell = reporting.cells(Filters(), Cutoffs.at())[(people["overdue"].unit_id, module_id())]
    assert cell.count(State.OVERDUE) == 1 and cell.count(State.COMPLETE) == 1


def test_counts_follow_changes_to_people(db, people, other_unit):
    person = people["complete"]
    person.deployment_date = date.today()
    db.session.commit()
    assert_counts_match()
    person.unit = other_unit
    db.session.commit()
    assert_counts_match()
    people["expiring"].category = "formed_police"
    people["pending"].is_active = False
    db.session.commit()
    assert_counts_match()
    move_expiry(people["complete"], module_id(), utcnow() - timedelta(days=1))
    assert_counts_match()


def test_counts_follow_records_removed_and_people_leaving_their_unit(db, people):
    person = people["complete"]
    db.session.execute(sa.delete(TrainingRecord).where(TrainingRecord.user_id == person.id))
    assert_counts_match()
    db.session.execute(sa.update(User).where(User.id == person.id).values(unit_id=None))
    db.session.commit()
    assert_counts_match()


def test_counts_follow_a_roster_import(db, people, unit):
    existing = people["pending"]
    three_days_ago = (date.today() - timedelta(days=3)).isoformat()
    content = csv_file(
        f"{existing.service_number},{existing.full_name},formed_police,{unit.code},,,"
        + three_days_ago,
        f"NEW-1,Nadia New,military_contingent,{unit.code},,,{date.today().isoformat()}",
        f"NEW-2,Nils Undated,civilian,{unit.code},manager,,",
    )
    checked = roster.preview(content, [unit])
    assert checked.is_valid, checked.problems
    roster.apply(checked)
    db.session.commit()
    assert_counts_match()
    police = reporting.cells(Filters(category="formed_police"), Cutoffs.at())
    assert police[(unit.id, module_id())].count(State.OVERDUE) == 1


@pytest.fixture
def timeline(db, modules, make_user):
    """People whose states change over the next weeks, without anything being written."""
    now, today = utcnow(), date.today()
    for days in (3, 10, 14, 15, 16, 20, 40):
        make_user(deployment_date=today + timedelta(days=days))
    for days in (35, 29, 25, 2):
        make_user(created_at=now - timedelta(days=days))
    for days, expires in ((200, 5), (200, 25), (15, 31), (200, 35), (200, 400)):
        person = make_user(deployment_date=today + timedelta(days=days))
        pass_module(person)
        move_expiry(person, module_id(), now + timedelta(days=expires, hours=1))
    return now


DAYS = [-3, 0, 0.5, 1, 2, 4, 6, 11, 15, 17, 26, 30, 32, 36, 60, 401]


@pytest.mark.parametrize("days", DAYS)
def test_counts_stay_right_as_days_pass(db, timeline, days):
    assert_counts_match(Cutoffs.at(timeline + timedelta(days=days)))


def test_a_refresh_moves_the_counts_to_now_and_folds_their_changes(db, timeline, make_user):
    later = timeline + timedelta(days=12)
    assert count(ReportCount) > len(source.counts(Filters(), Cutoffs.at(later)))
    summary.refresh(later)
    db.session.commit()
    assert summary.anchor().now == later
    assert count(ReportCount) == len(source.counts(Filters(), Cutoffs.at(later)))
    pass_module(make_user(deployment_date=date.today()))
    for days in (0, 3, -5, 30):
        assert_counts_match(Cutoffs.at(later + timedelta(days=days)))


def test_the_dashboard_counts_as_of_today_whatever_day_the_counts_were_counted(
    db, timeline, client, login, make_user, unit, monkeypatch
):
    from app.services.reporting import states

    coordinator = make_user(Role.COORDINATOR, unit=None, assigned_units=[unit])
    later = timeline + timedelta(days=16)
    monkeypatch.setattr(states, "utcnow", lambda: later)
    cell = source.counts(Filters(), Cutoffs.at(later), ("unit_id", "module_id"))[
        (unit.id, module_id())
    ]
    page = login(coordinator).get("/coordinator/").get_data(as_text=True)
    done = cell.get("complete", 0) + cell.get("expiring", 0)
    total = sum(cell.values())
    overdue, expiring = cell.get("overdue", 0), cell.get("expiring", 0)
    assert f"{done}/{total} (" in page
    assert f"{overdue} overdue · {expiring} expiring" in page


def test_counts_of_other_lead_times_are_not_used(app, db, people, monkeypatch):
    monkeypatch.setitem(app.config, "EXPIRING_WITHIN_DAYS", 45)
    cutoffs = Cutoffs.at()
    assert summary.differences(cutoffs) is None
    # Counted from the source meanwhile: the expiring one expires within 45 days too.
    assert reporting.cells(Filters(), cutoffs) == {
        key: reporting.Cell(states)
        for key, states in source.counts(Filters(), cutoffs, ("unit_id", "module_id")).items()
    }
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "check"])
    assert result.exit_code == 1 and "flask reports rebuild" in result.output
    assert runner.invoke(args=["reports", "rebuild"]).exit_code == 0
    result = runner.invoke(args=["reports", "check"])
    assert result.exit_code == 0, result.output
    assert "match" in result.output


def test_check_names_a_count_that_differs_and_rebuild_mends_it(app, db, people, unit):
    db.session.add(
        ReportCount(unit_id=unit.id, category="civilian", module_id=module_id(), complete=0,
                    expiring=0, in_progress=0, overdue=3)
    )  # fmt: skip
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "check"])
    assert result.exit_code == 1
    assert f"unit {unit.id}, civilian, module {module_id()}, overdue: " in result.output
    assert "1 count differs" in result.output
    result = runner.invoke(args=["reports", "rebuild"])
    assert result.exit_code == 0 and "rebuilt" in result.output
    assert runner.invoke(args=["reports", "check"]).exit_code == 0
    result = runner.invoke(args=["reports", "refresh"])
    assert result.exit_code == 0 and "present" in result.output
    assert_counts_match()


def test_loading_modules_counts_everyone_again(db, people, tmp_path):
    from tests.fixtures import load_revised_modules

    db.session.execute(sa.delete(ReportCount))
    db.session.commit()
    assert summary.differences(Cutoffs.at())
    load_revised_modules(tmp_path / "modules")
    assert_counts_match()


def test_reports_read_the_counts_in_two_statements(db, people, count_queries):
    with count_queries() as statements:
        reporting.cells(Filters(), Cutoffs.at())
    read = [statement for statement in statements if not statement.startswith("SAVEPOINT")]
    assert len(read) == 2 and "report_count" in read[-1]
    # An empty list of units: nothing to count, and no error.
    assert reporting.cells(Filters(unit_ids=[]), Cutoffs.at()) == {}
