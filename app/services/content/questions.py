"""Read the quiz of a module: ## questions, tags, - [ ] options and their feedback."""

from __future__ import annotations

import re

from app.models import PersonnelCategory
from app.services.content.model import FENCE_RE, Option, Question
from app.services.frontmatter import Problem

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

QUIZ_HEADING_RE = re.compile(r"^#\s+quiz\s*$", re.IGNORECASE)
QUESTION_RE = re.compile(r"^##\s+(?P<title>.*?)\s*$")
TAG_RE = re.compile(r"\s*\[(?P<tag>[A-Za-z-]+)\]\s*$")
OPTION_RE = re.compile(r"^[-*]\s+\[(?P<mark>[ xX])\]\s*(?P<text>.*)$")
SECTION_RE = re.compile(r"^Section:\s*(?P<title>.*?)\s*$")


def find_quiz_heading(lines: list[str]) -> int | None:
    """Return the index of the # Quiz heading outside code fences, or None."""
    in_fence = False
    for index, line in enumerate(lines):
        if FENCE_RE.match(line):
            in_fence = not in_fence
        elif not in_fence and QUIZ_HEADING_RE.match(line):
            return index
    return None


def read_quiz(path: str, lines: list[str], offset: int, problems: list[Problem]) -> list[Question]:
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
