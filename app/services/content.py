"""Training modules written in Markdown: parse, check and load them into the database."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    ModuleVersion,
    PersonnelCategory,
    Position,
    TrainingModule,
)
from app.models.types import utcnow
from app.services import annexes, curriculum, markdown, sources
from app.services.frontmatter import Problem as Problem
from app.services.frontmatter import display_path, read_front_matter

REQUIRED_FIELDS = (
    "slug",
    "title",
    "version",
    "summary",
    "estimated_minutes",
    "pass_mark",
    "questions_per_attempt",
    "mandatory_for",
    "validity_months",
)
OPTIONAL_FIELDS = ("roles", "attestation", "sources", "mission_annex")
CATEGORIES = [category.value for category in PersonnelCategory]
LEADERSHIP_POSITIONS = [Position.COMMANDER.value, Position.MANAGER.value]
# Question tags naming who a question is written for; untagged questions are for everyone.
CATEGORY_TAGS = {
    "contingent": [PersonnelCategory.MILITARY_CONTINGENT.value],
    "observer": [PersonnelCategory.MILITARY_STAFF_OFFICER.value],
    "police": [PersonnelCategory.FORMED_POLICE.value, PersonnelCategory.INDIVIDUAL_POLICE.value],
    "civilian": [PersonnelCategory.CIVILIAN.value],
    "volunteer": [PersonnelCategory.UN_VOLUNTEER.value],
    "contractor": [PersonnelCategory.CONTRACTOR.value],
}
QUESTION_TAGS = ("scenario", "multiple", *CATEGORY_TAGS)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
QUIZ_HEADING_RE = re.compile(r"^#\s+quiz\s*$", re.IGNORECASE)
QUESTION_RE = re.compile(r"^##\s+(?P<title>.*?)\s*$")
TAG_RE = re.compile(r"\s*\[(?P<tag>[A-Za-z-]+)\]\s*$")
OPTION_RE = re.compile(r"^[-*]\s+\[(?P<mark>[ xX])\]\s*(?P<text>.*)$")
FENCE_RE = re.compile(r"^\s*(```|~~~)")
SECTION_RE = re.compile(r"^Section:\s*(?P<title>.*?)\s*$")
LESSON_HEADING_RE = re.compile(r"^#{2,3}\s+(?P<title>.+?)\s*#*\s*$")


class ModuleError(Exception):
    """Modules that cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass
class Option:
    text: str
    correct: bool
    feedback: str
    line: int


@dataclass
class Question:
    title: str
    prompt: str
    options: list[Option]
    scenario: bool
    multiple: bool
    line: int
    # The personnel categories the question is written for; empty: everyone.
    categories: list[str] = field(default_factory=list)
    # The lesson heading whose text teaches the answer, and the line naming it.
    section: str | None = None
    section_line: int = 0


@dataclass(frozen=True)
class FieldPlace:
    """Where a front-matter field is written: its own line and the lines of its list items."""

    line: int
    item_lines: tuple[int, ...] = ()


@dataclass
class ModuleSource:
    """A module as its author wrote it, checked but not yet rendered."""

    path: str
    meta: dict[str, Any]
    lesson: str
    questions: list[Question]
    content_hash: str
    problems: list[Problem] = field(default_factory=list)
    places: dict[str, FieldPlace] = field(default_factory=dict)
    # The text of each file the module was read from, by shown path, to locate citations.
    files: dict[str, list[str]] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return str(self.meta.get("slug", ""))

    @property
    def lesson_headings(self) -> list[str]:
        """Return the lesson's second- and third-level headings, in order."""
        headings, in_fence = [], False
        for line in self.lesson.splitlines():
            if FENCE_RE.match(line):
                in_fence = not in_fence
            elif not in_fence and (match := LESSON_HEADING_RE.match(line)):
                headings.append(match["title"])
        return headings

    @property
    def lesson_words(self) -> int:
        """Count the words of the lesson, the basis of its reading time."""
        return len(re.findall(r"\w+", self.lesson))


def module_paths(directory: Path) -> list[Path]:
    """List the module files of a directory: *.md (not README.md) and */index.md."""
    paths = [p for p in directory.glob("*.md") if p.name.lower() != "readme.md"]
    paths += list(directory.glob("*/index.md"))
    return sorted(paths)


def read_module(path: Path) -> ModuleSource:
    """Parse one module (a file, or a folder's index.md with an optional quiz.md)."""
    shown = display_path(path)
    problems: list[Problem] = []
    raw = path.read_bytes()
    quiz_path = path.with_name("quiz.md") if path.name == "index.md" else None
    quiz_raw = quiz_path.read_bytes() if quiz_path and quiz_path.exists() else b""
    content_hash = hashlib.sha256(raw + b"\0" + quiz_raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
        quiz_text = quiz_raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        problem = Problem(shown, 1, "the file is not UTF-8 text; save it as UTF-8")
        return ModuleSource(shown, {}, "", [], content_hash, [problem])

    lines = text.splitlines()
    meta, body_start = read_front_matter(shown, lines, problems)
    body = lines[body_start:]
    quiz_at = _find_quiz_heading(body)
    if quiz_path is not None and quiz_raw:
        if quiz_at is not None:
            problems.append(
                Problem(shown, body_start + quiz_at + 1, "the quiz is in quiz.md; remove it here")
            )
        lesson_lines = body
        quiz_lines = quiz_text.splitlines()
        first = _find_quiz_heading(quiz_lines)
        quiz_offset = 0 if first is None else first + 1
        questions = _read_quiz(
            display_path(quiz_path), quiz_lines[quiz_offset:], quiz_offset, problems
        )
    elif quiz_at is None:
        lesson_lines, questions = body, []
    else:
        lesson_lines = body[:quiz_at]
        offset = body_start + quiz_at + 1
        questions = _read_quiz(shown, body[quiz_at + 1 :], offset, problems)

    module = ModuleSource(
        shown, meta, "\n".join(_without_title(lesson_lines)), questions, content_hash
    )
    module.files[shown] = lines
    if quiz_path is not None and quiz_raw:
        module.files[display_path(quiz_path)] = quiz_text.splitlines()
    if meta:
        module.places = _field_places(lines[1 : body_start - 1])
        _check_meta(module, lines, problems)
    module.problems = problems
    return module


def _without_title(lines: list[str]) -> list[str]:
    """Drop a first-level heading that opens the lesson: the page shows the title already."""
    for index, line in enumerate(lines):
        if line.strip():
            return lines[index + 1 :] if re.match(r"^#\s", line) else lines
    return lines


def _find_quiz_heading(lines: list[str]) -> int | None:
    in_fence = False
    for index, line in enumerate(lines):
        if FENCE_RE.match(line):
            in_fence = not in_fence
        elif not in_fence and QUIZ_HEADING_RE.match(line):
            return index
    return None


def _read_quiz(path: str, lines: list[str], offset: int, problems: list[Problem]) -> list[Question]:
    """Read questions; `offset` is the number of file lines before `lines`."""
    questions: list[Question] = []
    question: Question | None = None
    prompt: list[str] = []
    option: Option | None = None
    for index, line in enumerate(lines):
        number = offset + index + 1
        heading = QUESTION_RE.match(line)
        option_match = OPTION_RE.match(line)
        if heading:
            if question is not None:
                _finish_question(path, question, prompt, problems)
            title, tags = _split_tags(path, number, heading["title"], problems)
            question = Question(title, "", [], "scenario" in tags, "multiple" in tags, number)
            question.categories = sorted(
                {category for tag in tags for category in CATEGORY_TAGS.get(tag, [])}
            )
            questions.append(question)
            prompt, option = [], None
        elif question is None:
            if line.strip():
                problems.append(
                    Problem(path, number, "text before the first question: start each question "
                            "with a ## heading")
                )  # fmt: skip
        elif option_match:
            option = Option(option_match["text"].strip(), option_match["mark"] != " ", "", number)
            question.options.append(option)
        elif option is None and not "".join(prompt).strip() and (section := SECTION_RE.match(line)):
            question.section, question.section_line = section["title"], number
        elif option is None:
            prompt.append(line)
        elif not line.strip():
            option.feedback += "\n"
        elif line[:1] in {" ", "\t"}:
            option.feedback += line.strip() + "\n"
        else:
            problems.append(
                Problem(path, number, "unexpected text after the options: indent feedback by "
                        "two spaces under its option")
            )  # fmt: skip
    if question is not None:
        _finish_question(path, question, prompt, problems)
    return questions


def _split_tags(path: str, line: int, title: str, problems: list[Problem]) -> tuple[str, set[str]]:
    tags: set[str] = set()
    while match := TAG_RE.search(title):
        tag = match["tag"].lower()
        if tag not in QUESTION_TAGS:
            problems.append(
                Problem(path, line, f'unknown question tag "[{tag}]"; use one of: '
                        + ", ".join(f"[{known}]" for known in QUESTION_TAGS))
            )  # fmt: skip
        tags.add(tag)
        title = title[: match.start()].rstrip()
    return title, tags


def _finish_question(
    path: str, question: Question, prompt: list[str], problems: list[Problem]
) -> None:
    question.prompt = "\n".join(prompt).strip()
    for option in question.options:
        option.feedback = option.feedback.strip()
    name = f'question "{question.title}"' if question.title else "a question"
    if not question.title:
        problems.append(Problem(path, question.line, "a question heading has no text"))
    if len(question.options) < 2:
        problems.append(
            Problem(path, question.line, f"{name} needs at least two options (- [ ] and - [x])")
        )
    correct = sum(option.correct for option in question.options)
    if question.options and correct == 0:
        problems.append(
            Problem(path, question.line, f"{name} has no correct option (mark one with [x])")
        )
    if correct > 1:
        question.multiple = True
    for option in question.options:
        if not option.text:
            problems.append(Problem(path, option.line, "an option has no text"))
        if not option.feedback:
            problems.append(
                Problem(path, option.line, "option has no feedback: add a line under it, "
                        "indented by two spaces, saying why it is right or wrong")
            )  # fmt: skip


def _field_places(front_matter: list[str]) -> dict[str, FieldPlace]:
    """Locate each top-level field of front matter that parsed, and its list items."""
    root = yaml.compose("\n".join(front_matter), Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return {}
    # The front matter starts on the file's second line; marks count from zero.
    first = 2
    places = {}
    for key, value in root.value:
        if isinstance(value, yaml.SequenceNode):
            items = tuple(item.start_mark.line + first for item in value.value)
        else:
            items = (value.start_mark.line + first,)
        places[str(key.value)] = FieldPlace(key.start_mark.line + first, items)
    return places


def _check_meta(module: ModuleSource, lines: list[str], problems: list[Problem]) -> None:
    meta, path = module.meta, module.path

    def report(name: object, message: str, item: int | None = None) -> None:
        """Record a problem at a field's line, or at the line of its list item `item`."""
        place = module.places.get(str(name), FieldPlace(1))
        line = place.line
        if item is not None and item < len(place.item_lines):
            line = place.item_lines[item]
        # One line per problem, whatever the values quoted in it contain.
        problems.append(Problem(path, line, " ".join(message.split())))

    for name in REQUIRED_FIELDS:
        if meta.get(name) in (None, ""):
            report(name, f'front matter is missing the field "{name}"')
    for name in meta:
        if name not in REQUIRED_FIELDS and name not in OPTIONAL_FIELDS:
            report(name, f'unknown field "{name}" in the front matter')

    slug = meta.get("slug")
    if slug not in (None, "") and not (isinstance(slug, str) and SLUG_RE.match(slug)):
        report("slug", "slug must use lower case letters, digits and - only")
    for name in ("title", "summary", "version"):
        if meta.get(name) not in (None, "") and not isinstance(meta[name], str | int | float):
            report(name, f"{name} must be text")
    for name, low, high in (
        ("estimated_minutes", 1, 600),
        ("pass_mark", 1, 100),
        ("questions_per_attempt", 1, 200),
        ("validity_months", 1, 120),
    ):
        value = meta.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            report(name, f"{name} must be a whole number from {low} to {high}")

    categories = meta.get("mandatory_for")
    if categories not in (None, "", "all"):
        if isinstance(categories, str):
            categories = [categories]
        if not isinstance(categories, list):
            report("mandatory_for", "mandatory_for must be `all` or a list of categories")
        else:
            for index, category in enumerate(categories):
                if category not in CATEGORIES:
                    report(
                        "mandatory_for",
                        f'unknown personnel category "{category}"; use one of: '
                        + ", ".join(CATEGORIES),
                        item=index,
                    )
    roles = meta.get("roles")
    if roles is not None:
        if not isinstance(roles, list) or not roles:
            report("roles", "roles must be a list, for example [commander, manager]")
        else:
            for index, role in enumerate(roles):
                if role not in LEADERSHIP_POSITIONS:
                    report(
                        "roles",
                        f'unknown role "{role}"; use one of: ' + ", ".join(LEADERSHIP_POSITIONS),
                        item=index,
                    )
    for name in ("attestation",):
        if name in meta and not (isinstance(meta[name], str) and meta[name].strip()):
            report(name, f"{name} must be a non-empty text")
    if "mission_annex" in meta and not isinstance(meta["mission_annex"], bool):
        report("mission_annex", "mission_annex must be true or false")
    sources = meta.get("sources")
    if sources is not None and not (
        isinstance(sources, list) and all(isinstance(s, str) and s.strip() for s in sources)
    ):
        report("sources", "sources must be a list of document names")

    draw = meta.get("questions_per_attempt")
    if not module.questions:
        problems.append(
            Problem(path, len(lines) or 1, "the module has no quiz: add a # Quiz heading "
                    "followed by ## questions")
        )  # fmt: skip
    elif isinstance(draw, int) and draw > len(module.questions):
        report(
            "questions_per_attempt",
            f"questions_per_attempt is {draw} but the quiz has only "
            f"{len(module.questions)} questions",
        )


def read_modules(directory: Path) -> list[ModuleSource]:
    """Parse every module of a directory, adding problems that span files."""
    if not directory.is_dir():
        raise ModuleError([Problem(str(directory), 0, "the modules folder does not exist")])
    modules = [read_module(path) for path in module_paths(directory)]
    seen: dict[str, str] = {}
    for module in modules:
        if module.slug and module.slug in seen:
            line = module.places.get("slug", FieldPlace(1)).line
            module.problems.append(
                Problem(
                    module.path,
                    line,
                    f'slug "{module.slug}" is already used by {seen[module.slug]}',
                )
            )
        seen.setdefault(module.slug, module.path)
    return modules


@dataclass
class Catalogue:
    """Every module of a directory with the sources registry they cite."""

    modules: list[ModuleSource]
    registry: sources.Registry
    annexes: list[annexes.AnnexSource]
    problems: list[Problem]


def read_catalogue(directory: Path) -> Catalogue:
    """Parse the modules and the sources registry, checking what spans them."""
    modules = read_modules(directory)
    problems: list[Problem] = []
    registry = sources.read_registry(directory, problems)
    for module in modules:
        module.problems.extend(_reference_problems(module, registry))
    problems += [problem for module in modules for problem in module.problems]
    mission_annexes = annexes.read_annexes(directory)
    problems += [problem for annex in mission_annexes for problem in annex.problems]
    return Catalogue(modules, registry, mission_annexes, problems)


def _reference_problems(module: ModuleSource, registry: sources.Registry) -> list[Problem]:
    """Check citations, named lesson sections, and that every learner can be drawn a quiz."""
    problems = []
    for path, lines in module.files.items():
        in_front_matter = bool(lines) and lines[0].strip() == "---"
        for number, line in enumerate(lines, start=1):
            if in_front_matter:
                in_front_matter = number == 1 or line.strip() != "---"
                continue
            for key in sources.cited_keys(line):
                if key not in registry:
                    problems.append(
                        Problem(path, number, f'"[@{key}]" cites a source that is not in '
                                f"{sources.REGISTRY_FILE}: add it there or fix the key")
                    )  # fmt: skip
    headings = module.lesson_headings
    quiz_path = next(reversed(module.files), module.path)
    for question in module.questions:
        if question.section is not None and question.section not in headings:
            problems.append(
                Problem(quiz_path, question.section_line, f'"Section: {question.section}" '
                        "names no heading of the lesson; use the exact text of a ## or ### "
                        "heading")
            )  # fmt: skip
    draw = module.meta.get("questions_per_attempt")
    # A pool smaller than the draw is reported once, in the front matter check.
    if module.meta.get("mandatory_for") and isinstance(draw, int) and draw <= len(module.questions):
        for category in _categories(module.meta):
            if category not in CATEGORIES:
                continue
            eligible = sum(
                not question.categories or category in question.categories
                for question in module.questions
            )
            if eligible < draw:
                problems.append(
                    Problem(module.path, module.places.get("questions_per_attempt",
                            FieldPlace(1)).line, f"a {category} learner can be drawn only "
                            f"{eligible} of the {draw} questions per attempt: add questions "
                            "for them, or untagged ones")
                )  # fmt: skip
    return problems


def check_modules(directory: Path) -> list[Problem]:
    """Return every problem in a modules directory, in file and line order."""
    try:
        return _in_order(read_catalogue(directory).problems)
    except ModuleError as error:
        return error.problems


def _in_order(problems: Iterable[Problem]) -> list[Problem]:
    """Sort problems by file, then line, keeping the order of those on one line."""
    return sorted(problems, key=lambda problem: (problem.path, problem.line))


def _categories(meta: dict[str, Any]) -> list[str]:
    value = meta["mandatory_for"]
    if value == "all":
        return list(CATEGORIES)
    return [value] if isinstance(value, str) else list(value)


def _rendered_quiz(
    questions: Iterable[Question], registry: sources.Registry, heading_ids: dict[str, str]
) -> list[dict[str, Any]]:
    def cite(text: str) -> str:
        return sources.cite(text, registry)

    return [
        {
            "id": str(number),
            "title_html": markdown.render_inline(question.title),
            "prompt_html": markdown.render(cite(question.prompt))[0] if question.prompt else "",
            "scenario": question.scenario,
            "multiple": question.multiple,
            "categories": question.categories,
            "section": (
                {"title": question.section, "anchor": heading_ids.get(question.section, "")}
                if question.section
                else None
            ),
            "options": [
                {
                    "id": chr(ord("a") + index),
                    "text_html": markdown.render_inline(cite(option.text)),
                    "correct": option.correct,
                    "feedback_html": markdown.render(cite(option.feedback))[0],
                }
                for index, option in enumerate(question.options)
            ],
        }
        for number, question in enumerate(questions, start=1)
    ]


def _cited(source: ModuleSource, registry: sources.Registry) -> list[dict[str, Any]]:
    """Return the registry entries a module cites anywhere, in order of first citation."""
    text = "\n".join("\n".join(lines) for lines in source.files.values())
    return sources.snapshot(sources.cited_keys(text), registry)


@dataclass(frozen=True)
class SyncResult:
    slug: str
    action: str  # "created", "updated", "unchanged" or "retired"
    version: int | None


def sync_modules(directory: Path) -> list[SyncResult]:
    """Load every module, adding a version only where the content changed."""
    catalogue = read_catalogue(directory)
    if catalogue.problems:
        raise ModuleError(_in_order(catalogue.problems))
    registry = catalogue.registry

    existing = {m.slug: m for m in db.session.scalars(sa.select(TrainingModule))}
    current = {
        v.module_id: v
        for v in db.session.scalars(sa.select(ModuleVersion).where(ModuleVersion.is_current))
    }
    results = []
    for source in catalogue.modules:
        module = existing.pop(source.slug, None)
        if module is None:
            module = TrainingModule(slug=source.slug)
            db.session.add(module)
            db.session.flush()
        module.retired_at = None
        latest = current.get(module.id)
        if latest is not None and latest.content_hash == source.content_hash:
            # Same content: keep the version, but refresh its HTML should rendering improve.
            _render_into(latest, source, registry)
            results.append(SyncResult(source.slug, "unchanged", latest.number))
            continue
        number = 1 + (
            db.session.scalar(
                sa.select(sa.func.max(ModuleVersion.number)).where(
                    ModuleVersion.module_id == module.id
                )
            )
            or 0
        )
        if latest is not None:
            latest.is_current = False
        db.session.add(_new_version(module, number, source, registry))
        results.append(SyncResult(source.slug, "updated" if latest else "created", number))

    for module in existing.values():
        if module.retired_at is None:
            module.retired_at = utcnow()
            for version in module.versions:
                version.is_current = False
            results.append(SyncResult(module.slug, "retired", None))
    db.session.flush()
    curriculum.rebuild()
    annexes.sync_annexes(catalogue.annexes)
    return results


def all_modules() -> list[TrainingModule]:
    """Return every module ever loaded, retired ones included, with its versions, by slug."""
    return list(
        db.session.scalars(
            sa.select(TrainingModule)
            .options(selectinload(TrainingModule.versions))
            .order_by(TrainingModule.slug)
        )
    )


def _rendering(source: ModuleSource, registry: sources.Registry) -> dict[str, Any]:
    """Render what a version stores of its source: lesson, contents, quiz, cited sources."""
    lesson = sources.cite(source.lesson, registry)
    body_html, toc_html = markdown.render(lesson)
    return {
        "body_html": body_html,
        "toc_html": toc_html,
        "quiz": _rendered_quiz(source.questions, registry, markdown.heading_ids(lesson)),
        "sources": _cited(source, registry),
    }


def _render_into(version: ModuleVersion, source: ModuleSource, registry: sources.Registry) -> None:
    for name, value in _rendering(source, registry).items():
        if getattr(version, name) != value:
            setattr(version, name, value)


def _new_version(
    module: TrainingModule, number: int, source: ModuleSource, registry: sources.Registry
) -> ModuleVersion:
    meta = source.meta
    attestation = meta.get("attestation")
    return ModuleVersion(
        module=module,
        number=number,
        label=str(meta["version"]),
        content_hash=source.content_hash,
        is_current=True,
        title=str(meta["title"]).strip(),
        summary=str(meta["summary"]).strip(),
        estimated_minutes=meta["estimated_minutes"],
        pass_mark=meta["pass_mark"],
        questions_per_attempt=meta["questions_per_attempt"],
        validity_months=meta["validity_months"],
        categories=_categories(meta),
        positions=list(meta.get("roles") or []),
        attestation=" ".join(attestation.split()) if attestation else None,
        mission_annex=bool(meta.get("mission_annex")),
        **_rendering(source, registry),
    )
