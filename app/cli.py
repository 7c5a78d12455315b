"""Command-line tools: flask modules check|sync, flask demo seed."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.audit_cli import audit_cli
from app.certificates_cli import certificates_cli
from app.extensions import db
from app.printing_cli import worker_command
from app.reminders_cli import reminders_cli
from app.roster_cli import roster_cli
from app.services import content, content_lint, demo

modules_cli = AppGroup("modules", help="Check and load the training modules.")
demo_cli = AppGroup("demo", help="Demonstration data (demo mode only).")


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
    click.echo("All modules are valid.")
    if warnings:
        click.echo(
            f"{len(warnings)} warnings: quizzes a learner could pass by guessing "
            "(listed above); --strict counts them as errors."
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
        version = f" (version {result.version})" if result.version else ""
        click.echo(f"{result.slug}: {result.action}{version}")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Create the demo mission, units and one account per role (demo mode only)."""
    if not current_app.config["DEMO_MODE"]:
        click.echo("Demo mode is off: no demo accounts created.")
        return
    password = current_app.config["DEMO_PASSWORD"] or demo.random_password()
    accounts = demo.seed(password)
    db.session.commit()
    click.echo("Demo accounts (demo mode only):")
    for username in accounts:
        click.echo(f"  {username:<12} password: {password}")


@demo_cli.command("scale")
@click.option("--users", default=100_000, show_default=True, help="People to create.")
@click.option("--units", default=120, show_default=True, help="Units to spread them over.")
@click.option("--modules", default=20, show_default=True, help="Mandatory modules.")
def demo_scale(users: int, units: int, modules: int) -> None:
    """Generate a large organisation with completion history, for measurements."""
    if users < 1 or units < 1 or modules < 1:
        raise click.BadParameter("users, units and modules must each be at least 1")
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        click.echo(f"\r{stage:>8}: {done:>9,} / {total:,}  ({elapsed:5.0f} s)", nl=False)
        if done >= total:
            click.echo()

    counts = demo.scale(users, units, modules, progress)
    db.session.commit()
    click.echo(
        f"Created {counts['people']:,} people in {counts['units']} units with "
        f"{counts['completions']:,} completions in {time.perf_counter() - started:.0f} s."
    )


def register(app: Flask) -> None:
    """Attach the command groups to the application."""
    app.cli.add_command(modules_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(roster_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(worker_command)
