"""Fail the run when a test skips, except the few listed here with the reason they may.

A test that silently skips on a fresh machine checks nothing there, yet the run is green.
"""

from __future__ import annotations

from typing import Any

import pytest

ALLOWED_SKIPS = {
    # Restarts the PostgreSQL server; on SQLite there is no server to restart.
    "tests/system/test_crashes.py::test_next_request_after_a_postgresql_restart_succeeds",
    # PostgreSQL's row locks (FOR NO KEY UPDATE against a foreign key's share lock);
    # SQLite locks the whole database and has no such locks to test.
    "tests/services/test_documents.py::test_a_row_naming_the_person_is_written_while_their_record_renders",
}

_unexpected: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and report.nodeid not in ALLOWED_SKIPS:
        _unexpected.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unexpected and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _unexpected:
        terminalreporter.write_sep("=", "skipped, and not in tests/skip_policy.py", red=True)
        for nodeid in _unexpected:
            terminalreporter.write_line(nodeid)
