"""Fixtures that read like a story: an app, a database, people, and signing in.

They live in tests/fixtures/, one module per subject, loaded here as plugins.
"""

import pytest

# Before the plugins are imported, so that their asserts report as the tests' do.
pytest.register_assert_rewrite("tests.fixtures")

pytest_plugins = [
    "tests.skip_policy",
    "tests.fixtures.app",
    "tests.fixtures.database",
    "tests.fixtures.documents",
    "tests.fixtures.people",
    "tests.fixtures.web",
    "tests.fixtures.mail",
    "tests.fixtures.servers",
    "tests.fixtures.training",
    "tests.fixtures.translations",
    "tests.fixtures.languages",
    "tests.fixtures.classroom",
]
