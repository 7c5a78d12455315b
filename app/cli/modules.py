"""flask modules check|sync: validate the training modules and load them."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext

from app.extensions import db
from app.services import content, content_lint

modules_cli = AppGroup("modules", help="Check and load the training modules.")


@modules_cli.command("check")
@click.option("--strict", is_flag=True, help="Count warnings about guessable quizzes as errors.")
def modules_check(strict: bool) -> None:
    """Validate every module file and list each problem as path:line: message."""
    directory = current_app.config["MODULES_DIR"]
    problems = content.check_modules(directory)
    warnings = content_lint.lint_modules(directory) if not problems else []
    for problem in sorted(problems + warnings, key=lambda p: (p.path, p.line)):
        click.echo(str(problem), err=True)
    if problems or (strict and warnings):
        raise click.exceptions.Exit(1)
    click.echo(gettext("All modules are valid."))
    if warnings:
        click.echo(
            gettext(
                "%(count)s warnings: quizzes a learner could pass by guessing "
                "(listed above); --strict counts them as errors.",
                count=len(warnings),
            )
        )


@modules_cli.command("sync")
def modules_sync() -> None:
    """Load the modules into the database; changed content becomes a new version."""
    try:
        results = content.sync_modules(current_app.config["MODULES_DIR"])
    except content.ModuleError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.exceptions.Exit(1) from None
    db.session.commit()
    for result in results:
        if result.version:
            line = gettext(
                "%(slug)s: %(action)s (version %(version)s)",
                slug=result.slug,
                action=result.action,
                version=result.version,
            )
        else:
            line = gettext("%(slug)s: %(action)s", slug=result.slug, action=result.action)
        click.echo(line)
