"""The command line: one module per command group, all registered here.

A command module parses its options, calls services, commits and prints; it imports
services and `app.cli.common`, never another command module.
"""

from __future__ import annotations

from flask import Flask

from app.cli import audit, certificates, demo, modules, reminders, reports, roster, worker

COMMANDS = (
    modules.modules_cli,
    demo.demo_cli,
    roster.roster_cli,
    reminders.reminders_cli,
    reports.reports_cli,
    certificates.certificates_cli,
    audit.audit_cli,
    worker.worker_command,
)


def register(app: Flask) -> None:
    """Attach the command groups to the application."""
    for command in COMMANDS:
        app.cli.add_command(command)
