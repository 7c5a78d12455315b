"""A skipped test fails the run unless it is one of the allowed skips."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A separate pytest run with the project's skip policy loaded."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return pytester


def test_a_test_that_skips_fails_the_run(run: pytest.Pytester) -> None:
    run.makepyfile(
        test_needs_a_service="""
        import pytest

        def test_queue():
            pytest.skip("Redis is not running")
        """
    )
    result = run.runpytest_subprocess("-p", "tests.skip_policy")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*skipped, and not in tests/skip_policy.py*", "*test_queue*"])


def test_a_run_without_skips_passes(run: pytest.Pytester) -> None:
    run.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = run.runpytest_subprocess("-p", "tests.skip_policy")
    assert result.ret == pytest.ExitCode.OK
