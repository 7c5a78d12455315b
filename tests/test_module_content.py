"""The shipped training content meets the rules set for it.

Each module: complete front matter, 10-30 minutes of reading, a pool of at least
12 questions of which two thirds are scenarios, 8-10 drawn per attempt, a pass mark
of 80%, feedback on every option naming one of the module's sources, and
multiple-answer questions where the real answer is several things.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services import content

MODULES = Path(__file__).parent.parent / "modules"
WORDS_PER_MINUTE = 150
ALL = sorted(content.CATEGORIES)
EXPECTED = {
    # slug: (categories, roles, has an undertaking)
    "duty-of-care": (ALL, None, True),
    "zero-tolerance": (ALL, None, True),
    "reporting": (ALL, None, False),
    "command-responsibility": (ALL, ["commander", "manager"], False),
}
SOURCES = content.read_modules(MODULES)
BY_SLUG = {module.slug: module for module in SOURCES}


def test_the_four_modules_are_shipped_and_valid():
    assert sorted(BY_SLUG) == sorted(EXPECTED)
    assert content.check_modules(MODULES) == []


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_front_matter_maps_the_right_people(slug):
    module = BY_SLUG[slug]
    categories, roles, undertaking = EXPECTED[slug]
    mandatory = module.meta["mandatory_for"]
    assert (ALL if mandatory == "all" else sorted(mandatory)) == categories
    assert module.meta.get("roles") == roles
    assert ("attestation" in module.meta) is undertaking
    if undertaking:
        statement = module.meta["attestation"]
        assert "I have read and understood" in statement and "I will" in statement
    assert module.meta["sources"], "name the documents the module rests on"
    assert module.meta["pass_mark"] == 80
    assert 8 <= module.meta["questions_per_attempt"] <= 10


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_reading_time_is_ten_to_thirty_minutes(slug):
    module = BY_SLUG[slug]
    minutes = module.lesson_words / WORDS_PER_MINUTE + module.meta["questions_per_attempt"]
    assert 10 <= minutes <= 30
    assert 10 <= module.meta["estimated_minutes"] <= 30
    assert abs(module.meta["estimated_minutes"] - minutes) <= 5


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_quiz_pool_is_large_and_mostly_scenarios(slug):
    questions = BY_SLUG[slug].questions
    assert len(questions) >= 12
    assert sum(q.scenario for q in questions) * 3 >= 2 * len(questions)
    assert sum(q.multiple for q in questions) >= 2


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_every_option_explains_itself_and_names_a_source(slug):
    module = BY_SLUG[slug]
    sources = module.meta["sources"]
    for question in module.questions:
        for option in question.options:
            assert option.feedback, f"{question.title}: {option.text}"
            assert any(source in option.feedback for source in sources), (
                f"{module.path}:{option.line}: feedback names none of {sources}"
            )
            verdict = "Right:" if option.correct else "Wrong:"
            assert option.feedback.startswith(verdict), f"{module.path}:{option.line}"


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_lesson_lists_its_sources(slug):
    lesson = BY_SLUG[slug].lesson
    assert "## Sources" in lesson
    for source in BY_SLUG[slug].meta["sources"]:
        assert source in lesson, source
