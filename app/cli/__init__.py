"""The command line: one module per command group, all registered here.

A command module parses its options, calls services, commits and prints; it imports
services and `app.cli.common`, never another command module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from app import i18n
from app.cli import audit, certificates, demo, modules, reminders, reports, roster, worker

COMMANDS = (
    modules.modules_cli,
    demo.demo_cli,
    roster.roster_cli,
    reminders.reminders_cli,
    reports.reports_cli,
    certificates.certificates_cli,
    audit.audit_cli,
)


def register(app: Flask) -> None:
    """Attach the command groups to the application."""
    for command in COMMANDS:
        app.cli.add_command(in_operators_language(command))
    # The worker records what happens to print jobs for the people who asked for them:
    # in the platform's language, not in that of the machine it runs on.
    app.cli.add_command(worker.worker_command)


def in_operators_language(command: click.Command) -> click.Command:
    """Make a command, or every command of a group, print in the operator's language.

    Only the command's own messages: what it renders in an application context of its
    own (the records `certificates print` draws) stays in the platform's language.
    """
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            in_operators_language(subcommand)
    elif command.callback is not None and command.callback not in WRAPPED:
        command.callback = speaking(command.callback)
        WRAPPED.add(command.callback)
    return command


# Commands are module-level objects: each application built must not wrap them again.
WRAPPED: set[Callable[..., Any]] = set()


def speaking(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command's callback in the operator's language."""

    @functools.wraps(callback)
    @with_appcontext
    def run(*args: Any, **kwargs: Any) -> Any:
        language = i18n.cli_language() or current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(language):
            return callback(*args, **kwargs)

    return run
