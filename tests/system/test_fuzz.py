"""Any input gets a clear answer, never an exception: the module parser, quiz forms, rosters.

Hypothesis generates the input: arbitrary text and bytes, and input shaped like the real
thing (Markdown modules with front matter and a quiz, quiz forms, CSV rosters) with
mistakes mixed in, so that the generated files reach past the first check.
"""

from __future__ import annotations

import io
import random
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, currently_in_test_context, event, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from app.models import Completion, QuizAttempt, Role, User
from app.services import content, quiz, roster, tables, training
from tests.fixtures import count, csrf_token, ods_file, post, xlsx_file

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LINE_BREAKS = st.sampled_from(["\n", "\r\n"])


# The module parser: read_module(path) -> problems as `path:line: message`


def check_module_file(path: Path, raw: bytes) -> content.ModuleSource:
    """Read a module file the way `flask modules check` does and check what it reports."""
    path.write_bytes(raw)
    module = content.read_module(path)
    assert content.check_modules(path.parent) == sorted(module.problems, key=lambda p: p.line)
    try:
        lines = len(raw.decode("utf-8-sig").splitlines())
    except UnicodeDecodeError:
        lines = 1
    shown = content.display_path(path)
    for problem in module.problems:
        assert re.match(rf"{re.escape(shown)}:\d+: \S", str(problem)), str(problem)
        assert 1 <= problem.line <= max(lines, 1), (problem, lines)
    if currently_in_test_context():
        event("valid module" if not module.problems else "module with problems")
    if not module.problems:
        assert_loadable(module)
    return module


def assert_loadable(module: content.ModuleSource) -> None:
    """A module reported as valid has everything loading it needs."""
    for name in content.REQUIRED_FIELDS:
        assert module.meta.get(name) not in (None, ""), name
    assert 1 <= module.meta["questions_per_attempt"] <= len(module.questions)
    for question in module.questions:
        assert len(question.options) >= 2
        assert any(option.correct for option in question.options)
        assert all(option.text and option.feedback for option in question.options)


@FUZZ
@given(raw=st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode))
def test_module_parser_answers_any_file_with_located_problems(tmp_path, raw):
    check_module_file(tmp_path / "module.md", raw)


@pytest.mark.parametrize(
    "front",
    [
        # YAML reads these field names as a number, a yes/no and an empty value.
        "title: Gifts\n2024: revised",
        "title: Gifts\nyes: reviewed",
        "title: Gifts\nnull: x",
        # Nested deeper than the YAML reader goes.
        "title: Gifts\nslug: " + "[" * 2000,
    ],
)
def test_odd_front_matter_is_a_located_problem_not_a_crash(tmp_path, front):
    module = check_module_file(tmp_path / "module.md", f"---\n{front}\n---\nText.\n".encode())
    assert module.problems


YAML_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 300)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["all", "civilian", "formed_police", "commander", "manager", "1.0"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
FIELD_NAMES = st.sampled_from(
    [*content.REQUIRED_FIELDS, *content.OPTIONAL_FIELDS, "Title", "slug ", "tags"]
)
VALID_META = {
    "slug": "fuzzed-module",
    "title": "A fuzzed module",
    "version": "1.0",
    "summary": "Generated.",
    "estimated_minutes": 10,
    "pass_mark": 80,
    "questions_per_attempt": 1,
    "mandatory_for": "all",
    "validity_months": 12,
}


def mostly(right: st.SearchStrategy, wrong: st.SearchStrategy, odds: int = 10) -> st.SearchStrategy:
    """Draw from `wrong` once in `odds` times, so generated files reach past the first check."""
    return st.integers(1, odds).flatmap(lambda n: wrong if n == 1 else right)


ONE_LINE = st.text(max_size=20).filter(lambda t: "\n" not in t and "\r" not in t)


@st.composite
def front_matter(draw: st.DrawFn) -> list[str]:
    """A front matter block: mostly right, with wrong values, unknown fields or broken YAML."""
    meta: dict[object, object] = dict(VALID_META)
    for name in draw(mostly(st.just([]), st.lists(FIELD_NAMES, min_size=1, max_size=3))):
        meta[name] = draw(YAML_VALUES)
    for name in draw(mostly(st.just([]), st.lists(st.sampled_from(list(VALID_META)), max_size=2))):
        meta.pop(name, None)
    odd_key = draw(mostly(st.none(), st.integers(0, 9) | st.booleans()))
    if odd_key is not None:
        meta[odd_key] = "odd"
    lines = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).splitlines()
    broken = draw(mostly(st.none(), st.sampled_from(["  : [", "a: 'b", "\t", "- item"])))
    if broken is not None:
        lines.insert(draw(st.integers(0, len(lines))), broken)
    closing = draw(mostly(st.just(["---"]), st.just([]), 30))
    return ["---", *lines, *closing]


QUIZ_LINES = st.one_of(
    st.builds(
        lambda title, tag: f"## {title}{tag}",
        ONE_LINE,
        st.sampled_from(["", " [multiple]", " [scenario]", " [Scenario]", " [nope]"]),
    ),
    st.builds(
        lambda mark, text: f"- [{mark}] {text}",
        st.sampled_from([" ", "x", "X"]),
        st.sampled_from(["Report it", "Keep quiet", "", "**Bold** option"]),
    ),
    st.sampled_from(["  Right: because.", "  Wrong: because.", "", "Stray text", "```", "# Quiz"]),
    ONE_LINE,
)


@st.composite
def question(draw: st.DrawFn) -> list[str]:
    """One quiz question, mostly well formed."""
    title = draw(mostly(st.sampled_from(["Gifts", "What do you do?", "**Bold**"]), ONE_LINE, 30))
    tag = draw(st.sampled_from(["", " [scenario]", " [multiple]"]))
    lines = [f"## {title}{tag}", ""]
    lines += draw(st.lists(st.sampled_from(["A prompt.", "", "> Quoted."]), max_size=2))
    options = draw(mostly(st.integers(2, 4), st.integers(0, 1), 30))
    correct = draw(st.lists(st.integers(0, max(options - 1, 0)), min_size=1, max_size=2))
    for index in range(options):
        mark = "x" if index in correct else " "
        text = draw(mostly(st.just(f"Option {index}"), st.sampled_from(["", "  "]), 30))
        lines.append(f"- [{mark}] {text}")
        lines += draw(mostly(st.just(["  Because."]), st.sampled_from([[], ["Unindented."]]), 30))
    lines += draw(mostly(st.just([]), st.lists(QUIZ_LINES, min_size=1, max_size=2), 30))
    return lines


@FUZZ
@given(
    meta=front_matter(),
    lesson=st.lists(mostly(st.sampled_from(["Text.", "# Heading", "", "## Part"]), st.just("```"))),
    quiz_heading=mostly(st.just("# Quiz"), st.sampled_from(["# quiz", "#Quiz", ""])),
    questions=mostly(st.lists(question(), min_size=1, max_size=4), st.just([])),
    newline=LINE_BREAKS,
)
def test_module_parser_answers_module_like_files_with_located_problems(
    tmp_path, db, meta, lesson, quiz_heading, questions, newline
):
    body = [line for lines in questions for line in lines]
    text = newline.join([*meta, *lesson, quiz_heading, *body]) + newline
    module = check_module_file(tmp_path / "module.md", text.encode())
    if not module.problems:
        # What the check accepts, `flask modules sync` loads.
        assert [result.action for result in content.sync_modules(tmp_path)] == ["created"]
        db.session.rollback()


@FUZZ
@given(
    index=st.text(max_size=300),
    quiz_file=st.lists(question(), max_size=3).map(lambda qs: "\n".join(sum(qs, ["# Quiz"]))),
)
def test_module_folder_with_quiz_file_answers_with_located_problems(tmp_path, index, quiz_file):
    folder = tmp_path / "modules" / "folder"
    folder.mkdir(parents=True, exist_ok=True)
    quiz_path = folder / "quiz.md"
    quiz_path.write_text(quiz_file, encoding="utf-8")
    index_text = "\n".join(["---", yaml.safe_dump(VALID_META).strip(), "---", index])
    module = content.read_module(_write(folder / "index.md", index_text))
    files = {
        content.display_path(folder / "index.md"): index_text,
        content.display_path(quiz_path): quiz_file,
    }
    for problem in module.problems:
        assert problem.path in files, problem
        assert 1 <= problem.line <= max(len(files[problem.path].splitlines()), 1), problem


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# Quiz forms: any submission is graded or sent back with what to fix, never a 500


@pytest.fixture
def learner(client, db, modules, make_user, login):
    user = make_user()
    login(user)
    return user


def new_attempt(db, user, seed: int = 0) -> QuizAttempt:
    """Start an attempt whose draw depends on the seed only, so examples replay alike.

    The attempt an earlier example left open is dropped first: starting would continue it.
    """
    version = training.current_version("basics")
    db.session.execute(
        sa.delete(QuizAttempt).where(
            QuizAttempt.user_id == user.id, QuizAttempt.submitted_at.is_(None)
        )
    )
    attempt = quiz.start_attempt(user, version, random.Random(seed))
    db.session.commit()
    return attempt


def check_submission(db, attempt: QuizAttempt, response, unreadable: bool = False) -> None:
    """The learner gets the result, or the quiz again saying what to fix; nothing else.

    A body no browser sends (bytes that are not UTF-8, not percent-encoded) may instead
    be refused as a whole, with the page saying to reload the form.
    """
    allowed = {302, 400, 422} if unreadable else {302, 422}
    assert response.status_code in allowed, response.status_code
    db.session.expire_all()
    stored = db.session.get(QuizAttempt, attempt.id)
    if response.status_code != 302:
        page = response.get_data(as_text=True)
        if response.status_code == 400:
            assert "reload the page and submit it again" in page
        else:
            assert "Choose an answer to question" in page or "choose among the options" in page
        assert stored.submitted_at is None and stored.answers is None
        return
    assert response.headers["Location"] == f"/training/attempts/{attempt.id}"
    assert stored.submitted_at is not None
    # What was recorded is an answer the quiz could have been given.
    pool = {question["id"]: question for question in stored.module_version.quiz}
    assert stored.answers is not None
    assert set(stored.answers) == {drawn["id"] for drawn in stored.questions}
    for drawn in stored.questions:
        chosen = stored.answers[drawn["id"]]
        assert chosen and set(chosen) <= set(drawn["options"]), (drawn, chosen)
        assert pool[drawn["id"]]["multiple"] or len(chosen) == 1, (drawn, chosen)
    assert stored.score == quiz.score(stored, stored.answers)
    completions = db.session.scalar(
        sa.select(sa.func.count()).where(Completion.attempt_id == attempt.id)
    )
    assert completions == (1 if stored.passed else 0)


FORM_KEYS = st.sampled_from(["q1", "q2", "q3", "q4", "q5", "q0", "q", "Q1", "q01", "q1 "]) | (
    st.text(max_size=8).filter(lambda key: key != "csrf_token")
)
FORM_VALUES = st.sampled_from(["a", "b", "c", "d", "e", "", "A", " a"]) | st.text(max_size=12)


@FUZZ
@given(fields=st.lists(st.tuples(FORM_KEYS, FORM_VALUES), max_size=14))
def test_any_quiz_form_is_graded_or_sent_back_with_what_to_fix(client, db, learner, fields):
    attempt = new_attempt(db, learner)
    form = MultiDict([("csrf_token", csrf_token(client, "/training/")), *fields])
    response = client.post(f"/training/attempts/{attempt.id}", data=form)
    check_submission(db, attempt, response)


@FUZZ
@given(data=st.data())
def test_answers_as_a_learner_ticks_them_are_graded_and_recorded_as_given(
    client, db, learner, data
):
    """Ticks among the options shown, now and then one too many or a forged one."""
    attempt = new_attempt(db, learner, data.draw(st.integers(0, 2**16)))
    form = MultiDict([("csrf_token", csrf_token(client, "/training/"))])
    pool = {question["id"]: question for question in attempt.module_version.quiz}
    for drawn in attempt.questions:
        question = pool[drawn["id"]]
        right = [option["id"] for option in question["options"] if option["correct"]]
        most = len(drawn["options"]) if question["multiple"] else 1
        ticked = st.lists(st.sampled_from(drawn["options"]), min_size=1, max_size=most, unique=True)
        ticks = data.draw(mostly(st.just(right) | ticked, st.lists(FORM_VALUES)))
        form.setlist(f"q{drawn['id']}", ticks)
    for key, value in data.draw(mostly(st.just([]), st.lists(st.tuples(FORM_KEYS, FORM_VALUES)))):
        form.add(key, value)
    response = client.post(f"/training/attempts/{attempt.id}", data=form)
    check_submission(db, attempt, response)
    if response.status_code == 302:
        db.session.expire_all()
        stored = db.session.get(QuizAttempt, attempt.id)
        # Recorded exactly as ticked (empty values aside), and graded.
        assert stored.answers == quiz.parse_answers(form, stored)
        event("passed" if stored.passed else "failed")
    else:
        event("sent back")


@FUZZ
@given(
    fields=st.lists(st.tuples(st.binary(max_size=6), st.binary(max_size=6)), max_size=10),
    raw=st.binary(max_size=40),
)
@example(fields=[], raw=b"\x80")
@example(fields=[(b"q1", b"\xff\xfe")], raw=b"")
def test_any_form_body_is_graded_or_sent_back(client, db, learner, fields, raw):
    """Percent-encoded bytes, as browsers send them, and then some bytes sent raw."""
    attempt = new_attempt(db, learner)
    token = csrf_token(client, "/training/")
    encoded = b"&".join(
        quote_from_bytes(k).encode() + b"=" + quote_from_bytes(v).encode() for k, v in fields
    )
    response = client.post(
        f"/training/attempts/{attempt.id}",
        data=f"csrf_token={token}&".encode() + encoded + raw,
        content_type="application/x-www-form-urlencoded",
    )
    check_submission(db, attempt, response, unreadable=bool(raw))


def test_the_right_answers_still_pass(client, db, learner):
    """The fuzzed checks above accept a correct submission, so they are not vacuous."""
    attempt = new_attempt(db, learner)
    pool = {question["id"]: question for question in attempt.module_version.quiz}
    form = MultiDict([("csrf_token", csrf_token(client, "/training/"))])
    for drawn in attempt.questions:
        for option in pool[drawn["id"]]["options"]:
            if option["correct"]:
                form.add(f"q{drawn['id']}", option["id"])
    response = client.post(f"/training/attempts/{attempt.id}", data=form)
    check_submission(db, attempt, response)
    assert response.status_code == 302 and count(Completion) == 1


# Rosters: any file gets its problems located by row and column, or a file-level message


FILE_MESSAGES = (
    "The file is not a roster that can be read.",
    "The file is saved in an 8-bit encoding",
    "This is an Excel 97-2003 workbook",
    "The file is empty.",
    "The spreadsheet cannot be opened",
    "The first sheet of the spreadsheet is empty.",
)
ROSTER_SAMPLES = (("SN-1", "UNIT-A", "civilian", "2026-03-31", "41028"),)


def physical_lines(content: bytes) -> int:
    if content.startswith(b"PK"):
        # A spreadsheet's rows are not lines of the file; the readers bound them instead.
        return tables.MAX_ROWS
    return len(re.split(rb"\r\n|\r|\n", content))


def check_roster(db, unit, content: bytes) -> roster.Preview:
    """Preview a file as the upload page does; a valid one must also import."""
    checked = roster.preview(content, [unit])
    for problem in checked.problems:
        text = str(problem)
        assert text.strip() and problem.message.strip(), problem
        if problem.row is not None:
            assert 1 <= problem.row <= physical_lines(content) + 1, (problem, content)
            prefix = f"row {problem.row}, column {problem.column}: " if problem.column else ""
            assert text.startswith(prefix or f"row {problem.row}: "), text
    event("valid roster" if checked.is_valid else "roster with problems")
    if checked.is_valid:
        assert checked.rows and all(row.action is not None for row in checked.rows)
        people = count(User)
        result = roster.apply(checked)
        assert len(result.created) == checked.count(roster.Action.CREATE)
        assert count(User) == people + len(result.created)
    db.session.rollback()
    return checked


@FUZZ
@given(content=st.binary(max_size=1500) | st.text(max_size=1500).map(str.encode))
@example(content=b"PK\x03\x04")
@example(content=b"\xff\xfe")
@example(content=b"\xef\xbb\xbf")
@example(content=b"sep=;\n")
@example(content=b'service_number,full_name,category,unit\n"unterminated')
def test_any_roster_file_gets_a_clear_answer(db, unit, content):
    check_roster(db, unit, content)


JUNK = st.text(max_size=15)
COLUMN_VALUES = {
    "service_number": st.builds("SN-{}".format, st.integers(0, 40)),
    "full_name": st.sampled_from(["Amina Haddad", "ليلى حداد", "王芳", "Diop, Aïssatou", "O'Neil"]),
    "category": st.sampled_from(["military_contingent", "Formed police unit member", "CIVILIAN"]),
    "unit": st.sampled_from(["UNIT-A", "unit-a", " UNIT-A "]),
    "position": st.sampled_from(["", "member", "Manager", "commander"]),
    "email": st.sampled_from(["", "a.b@example.org"]),
    "deployment_date": st.sampled_from(["", "2026-03-31"]) | st.dates().map(str),
}
WRONG_VALUES = st.sampled_from(
    ["", " ", '"', "UNIT-B", "sn-1", "31/03/2026", "2026-02-30", "rank", "x" * 201]
)


@st.composite
def roster_files(draw: st.DrawFn) -> bytes:
    """A roster CSV as spreadsheets write them: mostly right, with mistakes mixed in."""
    delimiter = draw(st.sampled_from([",", ";"]))
    optional = draw(st.lists(st.sampled_from(roster.COLUMNS[4:]), unique=True))
    columns = draw(st.permutations([*roster.REQUIRED_COLUMNS, *optional]))
    columns = draw(mostly(st.just(columns), st.lists(st.sampled_from(roster.COLUMNS))))
    names = [
        draw(
            mostly(
                st.sampled_from([c, c.upper(), c.replace("_", " ").title()]), JUNK | WRONG_VALUES
            )
        )
        for c in columns
    ]
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        width = draw(mostly(st.just(len(columns)), st.integers(0, len(columns) + 1)))
        rows.append(
            [
                draw(mostly(COLUMN_VALUES[columns[i]], JUNK | WRONG_VALUES, 25))
                if i < len(columns)
                else draw(JUNK)
                for i in range(width)
            ]
        )

    def line(values: list[str]) -> str:
        return delimiter.join(
            f'"{value.replace(chr(34), chr(34) * 2)}"'
            if delimiter in value or '"' in value or "\n" in value or "\r" in value
            else value
            for value in values
        )

    newline = draw(LINE_BREAKS)
    text = newline.join(line(values) for values in [names, *rows]) + newline
    prefix = draw(st.sampled_from(["", "\ufeff", f"sep={delimiter}\n"]))
    return (prefix + text).encode()


@FUZZ
@given(content=roster_files())
def test_any_roster_like_file_gets_its_problems_by_row_and_column(db, unit, content):
    check_roster(db, unit, content)


CELLS = (
    st.none()
    | st.dates()
    | st.datetimes()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | JUNK
    | WRONG_VALUES
    | st.sampled_from([v for values in ROSTER_SAMPLES for v in values])
)


@st.composite
def spreadsheets(draw: st.DrawFn) -> bytes:
    """An XLSX or ODS roster: cells of every type, mostly where a roster has them."""
    columns = draw(
        mostly(st.permutations(list(roster.COLUMNS)), st.lists(st.sampled_from(roster.COLUMNS)))
    )
    header = [draw(mostly(st.just(c), JUNK | WRONG_VALUES)) for c in columns]
    rows = [
        [draw(mostly(COLUMN_VALUES[c], CELLS, 4)) for c in columns]
        + draw(st.lists(CELLS, max_size=2))
        for _ in range(draw(st.integers(0, 4)))
    ]
    make = draw(st.sampled_from([xlsx_file, ods_file]))
    fit = ods_value if make is ods_file else xlsx_value
    return make(*[[fit(value) for value in row] for row in rows], header=[fit(h) for h in header])


def xlsx_value(value):
    # XLSX cannot hold these; openpyxl refuses them rather than the reader.
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")
    if isinstance(value, float) and value != value:
        return None
    return value


def ods_value(value):
    if isinstance(value, float | datetime):
        return str(value)
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")
    return value


@FUZZ
@given(content=spreadsheets())
def test_any_spreadsheet_roster_gets_its_problems_by_row_and_column(db, unit, content):
    check_roster(db, unit, content)


@pytest.fixture
def coordinator(client, make_user, unit, login):
    user = make_user(Role.COORDINATOR, unit=None, assigned_units=[unit])
    login(user)
    return user


@settings(FUZZ, max_examples=60)
@given(content=st.binary(max_size=600) | roster_files())
def test_any_uploaded_roster_gets_a_page_never_an_error(client, db, coordinator, content):
    response = post(
        client,
        "/coordinator/roster",
        {"file": (io.BytesIO(content), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in {302, 422}, response.status_code
    if response.status_code == 422:
        page = response.get_data(as_text=True)
        assert any(message in page for message in FILE_MESSAGES), page
        return
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "Confirm import" in page or "Nothing has been imported" in page
