"""The command line as a whole: every group is there, and the groups stay apart."""

from __future__ import annotations

import ast
from pathlib import Path

COMMAND_MODULES = sorted(
    path
    for path in (Path(__file__).parents[2] / "app" / "cli").glob("*.py")
    if path.name not in {"__init__.py", "common.py"}
)


def test_every_command_group_is_on_the_command_line(app):
    result = app.test_cli_runner().invoke(args=["--help"])
    assert result.exit_code == 0, result.output
    listed = {line.split()[0] for line in result.output.splitlines() if line.startswith("  ")}
    assert {
        "audit",
        "certificates",
        "demo",
        "modules",
        "reminders",
        "reports",
        "roster",
        "worker",
    } <= listed


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_a_command_module_imports_no_other_command_module():
    assert len(COMMAND_MODULES) == 8
    for path in COMMAND_MODULES:
        others = {
            name
            for name in imported_modules(path)
            if name.startswith("app.cli.") and name.split(".")[2] != "common"
        }
        assert not others, f"{path.name} imports {others}"
