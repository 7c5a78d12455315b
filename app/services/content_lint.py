"""Warnings about quizzes a test-wise learner could pass without reading the lesson.

Each rule looks for a pattern that lets someone guess: the right option is usually the
longest, or usually in the same place; "all of the above"; wrong options built on words
like "only" and "never" that people learn to avoid; select-all questions that always
have the same number of right options; questions that do not say which part of the
lesson teaches their answer. `flask modules check` prints them as warnings;
`--strict` makes them errors.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from app.services.content import ModuleSource, Question, read_modules
from app.services.frontmatter import Problem

LONGEST_CORRECT_LIMIT = 0.4
SAME_POSITION_LIMIT = 0.5
ABSOLUTE_DISTRACTOR_LIMIT = 1 / 3
ABSOLUTE_WORDS = ("only", "never", "always", "wait", "ignore", "nothing", "just")
ABSOLUTE_RE = re.compile(r"\b(" + "|".join(ABSOLUTE_WORDS) + r")\b", re.IGNORECASE)
ABOVE_RE = re.compile(r"\b(all|none|both|neither)\s+of\s+the\s+(above|options|answers)\b", re.I)
SOURCE_RE = re.compile(r"\[@[A-Za-z0-9-]+")


def lint_modules(directory: Path) -> list[Problem]:
    """Return the warnings for every module of a directory."""
    return [warning for module in read_modules(directory) for warning in lint(module)]


def lint(module: ModuleSource) -> list[Problem]:
    """Return the warnings for one module's quiz."""
    if not module.questions:
        return []
    path = next(reversed(module.files), module.path)
    questions = module.questions
    found = [
        *_guessable_answers(questions),
        *_absolute_distractors(questions),
        *_same_number_right(questions),
        *(warning for question in questions for warning in _question_warnings(question)),
    ]
    return [Problem(path, line, message, warning=True) for line, message in found]


# A warning before it is placed in a file: (line, message).
Finding = tuple[int, str]


def _guessable_answers(questions: list[Question]) -> list[Finding]:
    """Warn when single-answer questions give their right option away by length or place."""
    single = [q for q in questions if not q.multiple and len(q.options) >= 2]
    if not single:
        return []
    first = questions[0].line
    warnings: list[Finding] = []
    longest = [q for q in single if _correct_is_longest(q)]
    share = len(longest) / len(single)
    if share > LONGEST_CORRECT_LIMIT:
        warnings.append(
            (
                first,
                f"the right option is the longest in {len(longest)} of {len(single)} "
                f"single-answer questions ({share:.0%}; at most {LONGEST_CORRECT_LIMIT:.0%}): "
                "learners guess it; shorten some right options",
            )
        )
    positions = Counter(_correct_position(q) for q in single)
    position, times = positions.most_common(1)[0]
    if times / len(single) > SAME_POSITION_LIMIT:
        warnings.append(
            (
                first,
                f"option {position} is the right one in {times} of {len(single)} "
                "single-answer questions (more than half): vary where the right option stands",
            )
        )
    return warnings


def _absolute_distractors(questions: list[Question]) -> list[Finding]:
    """Warn when too many wrong options rest on absolute words learners reject unread."""
    distractors = [o for q in questions for o in q.options if not o.correct]
    absolute = [o for o in distractors if ABSOLUTE_RE.search(o.text)]
    if not distractors or len(absolute) / len(distractors) <= ABSOLUTE_DISTRACTOR_LIMIT:
        return []
    words = ", ".join(f'"{word}"' for word in ABSOLUTE_WORDS[:4])
    return [
        (
            questions[0].line,
            f"{len(absolute)} of {len(distractors)} wrong options rest on words like {words} "
            "(more than a third): learners reject them without reading; write plausible "
            "mistakes instead",
        )
    ]


def _same_number_right(questions: list[Question]) -> list[Finding]:
    """Warn when every select-all question has the same number of right options."""
    multiple = [q for q in questions if q.multiple]
    counts = {sum(o.correct for o in q.options) for q in multiple}
    if len(multiple) < 2 or len(counts) != 1:
        return []
    return [
        (
            multiple[0].line,
            f"every select-all question has {counts.pop()} right options: vary the number "
            "(one right option is allowed)",
        )
    ]


def _question_warnings(question: Question) -> list[Finding]:
    """Warn about one question's options, their feedback, and its missing section."""
    warnings: list[Finding] = []
    for option in question.options:
        if ABOVE_RE.search(option.text):
            warnings.append(
                (
                    option.line,
                    f'"{option.text}": avoid "all/none of the above" options; they are '
                    "answered by elimination",
                )
            )
        if option.feedback and not SOURCE_RE.search(option.feedback):
            warnings.append(
                (option.line, "the feedback cites no source: add [@key] from sources.yml")
            )
    if question.section is None:
        warnings.append(
            (
                question.line,
                f'question "{question.title}" does not say which lesson section teaches its '
                "answer: add a line Section: <heading> under the heading",
            )
        )
    return warnings


def _correct_is_longest(question: Question) -> bool:
    lengths = [len(option.text) for option in question.options]
    correct = next(len(o.text) for o in question.options if o.correct)
    return correct == max(lengths) and lengths.count(correct) == 1


def _correct_position(question: Question) -> int:
    return next(number for number, o in enumerate(question.options, start=1) if o.correct)
