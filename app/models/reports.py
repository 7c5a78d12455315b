"""Report counts: people per unit, category, module and state, kept by the database itself.

Triggers on people and training records add a row of changes to `report_count` in
the same transaction as every write, whatever code (or SQL console) makes it: a
completion, a revocation, a roster import, a moved deployment date. Nothing is updated
in place, so concurrent writers never wait for one another on a shared counter.

States depend on the day, so the counts are counted as of a moment, `report_anchor`:
reports add the few people and records whose state changed since then (the records
that expired or started expiring, the people who became due), and a daily
`flask reports refresh` moves the moment forward and folds the changes into one row
per count. `flask reports rebuild` recounts everything; `flask reports check` compares.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model, db
from app.models.types import UTCDateTime

ANCHOR_ID = 1


class ReportAnchor(Model):
    """The moment the report counts are counted at, and the lead times they were counted with.

    One row, always there (id 1); `as_of` is empty until the counts are first built.
    Writers share-lock it while they add changes; a refresh locks it to move it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The cutoffs of `reporting.Cutoffs.at(as_of)`, stored so triggers compare with them.
    expiring_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deployment_before: Mapped[date | None]
    created_before: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportCount(Model):
    """People added to (or taken from) each state, for one unit, category and module."""

    __table_args__ = (sa.Index("ix_report_count_unit_module", "unit_id", "module_id"),)

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    )
    unit_id: Mapped[int]
    category: Mapped[str] = mapped_column(sa.String(32))
    module_id: Mapped[int]
    # One column per state of reporting.states.State, named by its value.
    complete: Mapped[int]
    expiring: Mapped[int]
    in_progress: Mapped[int]
    overdue: Mapped[int]


STATES = ["complete", "expiring", "in_progress", "overdue"]


# The state of a person (p) on a module given their record's expiry ({valid_until}), as of
# the anchor (a): the same rule as reporting.states, in SQL both databases read.
STATE_AS_OF_ANCHOR = """CASE
    WHEN {valid_until} > a.expiring_before THEN 'complete'
    WHEN {valid_until} > a.as_of THEN 'expiring'
    WHEN (p.deployment_date IS NOT NULL AND p.deployment_date < a.deployment_before)
      OR (p.deployment_date IS NULL AND p.created_at < a.created_before) THEN 'overdue'
    ELSE 'in_progress' END"""

# What some people (p) add to the counts: one per module they must take, in its state.
PEOPLE_COUNTS = """SELECT p.unit_id, p.category, r.module_id, {state} AS state, {sign} AS people
    FROM {people}
    JOIN curriculum_requirement r ON r.category = p.category
      AND (r.position IS NULL OR r.position = p.position)
    CROSS JOIN report_anchor a
    LEFT JOIN training_record t ON t.user_id = p.id AND t.module_id = r.module_id
    WHERE a.as_of IS NOT NULL AND p.is_active AND p.unit_id IS NOT NULL"""

# What some records (t) add for the people they belong to, on modules those people must take.
RECORD_COUNTS = """SELECT p.unit_id, p.category, t.module_id, {state} AS state, {sign} AS people
    FROM {records}
    JOIN "user" p ON p.id = t.user_id
    JOIN curriculum_requirement r ON r.module_id = t.module_id AND r.category = p.category
      AND (r.position IS NULL OR r.position = p.position)
    CROSS JOIN report_anchor a
    WHERE a.as_of IS NOT NULL AND p.is_active AND p.unit_id IS NOT NULL"""

# The people of each state added up, by unit, category and module.
ADD_COUNTS = """INSERT INTO report_count (unit_id, category, module_id, {states})
    SELECT unit_id, category, module_id, {sums} FROM (
    {parts}
    ) AS changes
    GROUP BY unit_id, category, module_id
    HAVING {some}"""
STATE_SUM = "sum(CASE WHEN state = '{state}' THEN people ELSE 0 END)"

COUNTED_COLUMNS = ["unit_id", "category", "position", "deployment_date", "is_active", "created_at"]
PERSON_COLUMNS = ["id", *COUNTED_COLUMNS]
RECORD_COLUMNS = ["user_id", "module_id", "valid_until"]


def _people_counts(people: str, sign: int) -> str:
    return PEOPLE_COUNTS.format(
        people=people, sign=sign, state=STATE_AS_OF_ANCHOR.format(valid_until="t.valid_until")
    )


def _record_counts(records: str, sign: int, valid_until: str = "t.valid_until") -> str:
    return RECORD_COUNTS.format(
        records=records, sign=sign, state=STATE_AS_OF_ANCHOR.format(valid_until=valid_until)
    )


def _add(*parts: str) -> str:
    sums = [STATE_SUM.format(state=state) for state in STATES]
    return ADD_COUNTS.format(
        states=", ".join(STATES),
        sums=", ".join(sums),
        some=" OR ".join(f"{total} <> 0" for total in sums),
        parts="\n    UNION ALL\n    ".join(parts),
    )


def _sqlite_row(row: str, columns: list[str], alias: str) -> str:
    """Return a one-row subquery of a trigger's OLD or NEW row, as a table to join."""
    return "(SELECT " + ", ".join(f"{row}.{c} AS {c}" for c in columns) + f") AS {alias}"


def _sqlite_triggers() -> list[str]:
    old_person = _sqlite_row("OLD", PERSON_COLUMNS, "p")
    new_person = _sqlite_row("NEW", PERSON_COLUMNS, "p")
    old_record = _sqlite_row("OLD", RECORD_COLUMNS, "t")
    new_record = _sqlite_row("NEW", RECORD_COLUMNS, "t")
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COUNTED_COLUMNS)
    triggers = {
        "people_added": ('AFTER INSERT ON "user"', _add(_people_counts(new_person, 1))),
        "people_changed": (
            f'AFTER UPDATE ON "user" FOR EACH ROW WHEN {changed}',
            _add(_people_counts(old_person, -1), _people_counts(new_person, 1)),
        ),
        "people_removed": ('AFTER DELETE ON "user"', _add(_people_counts(old_person, -1))),
        "records_added": (
            "AFTER INSERT ON training_record",
            _add(_record_counts(new_record, -1, "NULL"), _record_counts(new_record, 1)),
        ),
        "records_changed": (
            "AFTER UPDATE ON training_record",
            _add(_record_counts(old_record, -1), _record_counts(new_record, 1)),
        ),
        "records_removed": (
            "AFTER DELETE ON training_record",
            _add(_record_counts(old_record, -1), _record_counts(old_record, 1, "NULL")),
        ),
    }
    return [
        f"CREATE TRIGGER report_count_{name} {event}"
        + ("" if "FOR EACH ROW" in event else " FOR EACH ROW")
        + f" BEGIN\n    {body};\nEND"
        for name, (event, body) in triggers.items()
    ]


# Writers share-lock the anchor: a refresh that moves it waits for them, and they for it.
LOCK_ANCHOR = "PERFORM 1 FROM report_anchor FOR SHARE;"
# A record's person is share-locked too, so that a concurrent change of their unit or
# category waits for the record's change (or the other way round) and counts what it wrote.
LOCK_PEOPLE = 'PERFORM 1 FROM "user" WHERE id IN (SELECT user_id FROM {rows}) FOR SHARE;'


def _postgresql_function(name: str, branches: dict[str, list[str]]) -> str:
    body = "\n  ELS".join(
        f"IF TG_OP = '{operation}' THEN\n    " + "\n    ".join(statements)
        for operation, statements in branches.items()
    )
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
        f"  {body}\n  END IF;\n  RETURN NULL;\nEND $$"
    )


def _postgresql_triggers() -> list[str]:
    distinct = (
        "(" + ", ".join(f"o.{c}" for c in COUNTED_COLUMNS) + ") IS DISTINCT FROM ("
        + ", ".join(f"n.{c}" for c in COUNTED_COLUMNS) + ")"
    )  # fmt: skip
    changed = "FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE " + distinct
    people = _postgresql_function(
        "report_count_people",
        {
            "INSERT": [LOCK_ANCHOR, _add(_people_counts("new_rows p", 1)) + ";"],
            # Most updates of a person (signing in, a new password) change nothing counted.
            "UPDATE": [
                f"IF NOT EXISTS (SELECT 1 {changed}) THEN RETURN NULL; END IF;",
                LOCK_ANCHOR,
                _add(
                    _people_counts(f"(SELECT o.* {changed}) AS p", -1),
                    _people_counts(f"(SELECT n.* {changed}) AS p", 1),
                )
                + ";",
            ],
            "DELETE": [LOCK_ANCHOR, _add(_people_counts("old_rows p", -1)) + ";"],
        },
    )
    records = _postgresql_function(
        "report_count_records",
        {
            "INSERT": [
                LOCK_ANCHOR,
                LOCK_PEOPLE.format(rows="new_rows"),
                _add(_record_counts("new_rows t", -1, "NULL"), _record_counts("new_rows t", 1))
                + ";",
            ],
            "UPDATE": [
                LOCK_ANCHOR,
                LOCK_PEOPLE.format(rows="new_rows"),
                _add(_record_counts("old_rows t", -1), _record_counts("new_rows t", 1)) + ";",
            ],
            "DELETE": [
                LOCK_ANCHOR,
                LOCK_PEOPLE.format(rows="old_rows"),
                _add(_record_counts("old_rows t", -1), _record_counts("old_rows t", 1, "NULL"))
                + ";",
            ],
        },
    )
    statements = [people, records]
    for table, function, prefix in (
        ('"user"', "report_count_people", "people"),
        ("training_record", "report_count_records", "records"),
    ):
        for name, event, tables in (
            ("added", "INSERT", "NEW TABLE AS new_rows"),
            ("changed", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("removed", "DELETE", "OLD TABLE AS old_rows"),
        ):
            statements.append(
                f"CREATE TRIGGER report_count_{prefix}_{name} AFTER {event} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    return statements


def trigger_statements(dialect: str) -> list[str]:
    """Return the SQL that creates the triggers keeping the report counts, for a database."""
    return _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers()


DROP_POSTGRESQL = [
    "DROP FUNCTION IF EXISTS report_count_people() CASCADE",
    "DROP FUNCTION IF EXISTS report_count_records() CASCADE",
]


@sa.event.listens_for(db.metadata, "after_create")
def _create_triggers(target: Any, connection: sa.Connection, **_: Any) -> None:
    for statement in trigger_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)
    connection.execute(sa.insert(ReportAnchor).values(id=ANCHOR_ID))


@sa.event.listens_for(db.metadata, "before_drop")
def _drop_triggers(target: Any, connection: sa.Connection, **_: Any) -> None:
    if connection.dialect.name == "postgresql":
        for statement in DROP_POSTGRESQL:
            connection.exec_driver_sql(statement)
