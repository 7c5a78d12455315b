"""The shipped training content meets the rules set for it.

Each module: complete front matter, 10-30 minutes of reading, a pool of at least
25 questions of which two thirds are scenarios, 10 drawn per attempt, a pass mark
of 80%, feedback on every option citing a document of the sources registry, at least
three scenarios of its own for every personnel category, a content note and support
routes, and multiple-answer questions with varying numbers of right options.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services import content, sources

MODULES = Path(__file__).parents[2] / "modules"
WORDS_PER_MINUTE = 150
ALL = sorted(content.CATEGORIES)
EXPECTED = {
    # slug: (categories, roles, has an undertaking)
    "duty-of-care": (ALL, None, True),
    "zero-tolerance": (ALL, None, True),
    "reporting": (ALL, None, False),
    "command-responsibility": (ALL, ["commander", "manager"], False),
}
CATALOGUE = content.read_catalogue(MODULES)
BY_SLUG = {module.slug: module for module in CATALOGUE.modules}
ALL_PERSONNEL = ["duty-of-care", "reporting", "zero-tolerance"]


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
    assert module.meta["pass_mark"] == 80
    assert module.meta["questions_per_attempt"] == 10
    assert module.meta["version"] == "2.0"


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
    assert len(questions) >= 25
    assert sum(q.scenario for q in questions) * 3 >= 2 * len(questions)
    right_counts = {sum(o.correct for o in q.options) for q in questions if q.multiple}
    assert {1, 2} <= right_counts, "select-all questions with one and with several right options"


@pytest.mark.parametrize("slug", ALL_PERSONNEL)
@pytest.mark.parametrize("tag", sorted(content.CATEGORY_TAGS))
def test_every_category_has_three_scenarios_of_its_own(slug, tag):
    categories = content.CATEGORY_TAGS[tag]
    own = [
        q for q in BY_SLUG[slug].questions if q.scenario and set(categories) <= set(q.categories)
    ]
    assert len(own) >= 3, f"{slug}: {len(own)} scenarios tagged [{tag}]"


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_every_option_explains_itself_and_cites_a_registered_source(slug):
    module = BY_SLUG[slug]
    for question in module.questions:
        for option in question.options:
            assert option.feedback, f"{question.title}: {option.text}"
            cited = sources.cited_keys(option.feedback)
            assert cited and set(cited) <= set(CATALOGUE.registry), (
                f"{module.path}:{option.line}: feedback cites {cited}"
            )
            verdict = "Right:" if option.correct else "Wrong:"
            assert option.feedback.startswith(verdict), f"{module.path}:{option.line}"


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_lesson_cites_registered_sources_and_no_invented_labels(slug):
    lesson = BY_SLUG[slug].lesson
    cited = sources.cited_keys(lesson)
    assert cited and set(cited) <= set(CATALOGUE.registry)
    for invented in ("Conduct and Discipline guidance", "DPKO reforms", "core principle"):
        assert invented not in lesson


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_lesson_has_a_content_note_and_support_routes(slug):
    lesson = BY_SLUG[slug].lesson
    assert '!!! note "If this affects you"' in lesson
    box = lesson.split('!!! note "If this affects you"', 1)[1].split("\n\n", 2)[:2]
    assert "Speak Up" in " ".join(box) and "counsellor" in " ".join(box)
    if slug != "command-responsibility" or "child" in lesson:
        assert '!!! warning "Content note"' in lesson


def test_every_registry_source_says_where_to_find_it():
    for source in CATALOGUE.registry.values():
        assert source.title and source.year and source.where, source.key
