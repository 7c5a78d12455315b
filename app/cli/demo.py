"""flask demo seed|scale: demonstration accounts, and a large organisation to measure."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext

from app.extensions import db
from app.services import demo

demo_cli = AppGroup("demo", help="Demonstration data (demo mode only).")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Create the demo mission, units and one account per role (demo mode only)."""
    if not current_app.config["DEMO_MODE"]:
        click.echo(gettext("Demo mode is off: no demo accounts created."))
        return
    password = current_app.config["DEMO_PASSWORD"] or demo.random_password()
    accounts = demo.seed(password)
    db.session.commit()
    click.echo(gettext("Demo accounts (demo mode only):"))
    for username in accounts:
        click.echo(
            gettext(
                "  %(username)s password: %(password)s",
                username=username.ljust(12),
                password=password,
            )
        )


@demo_cli.command("scale")
@click.option("--users", default=100_000, show_default=True, help="People to create.")
@click.option("--units", default=120, show_default=True, help="Units to spread them over.")
@click.option("--modules", default=20, show_default=True, help="Mandatory modules.")
def demo_scale(users: int, units: int, modules: int) -> None:
    """Generate a large organisation with completion history, for measurements."""
    if users < 1 or units < 1 or modules < 1:
        raise click.BadParameter(gettext("users, units and modules must each be at least 1"))
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        line = gettext(
            "%(stage)s: %(done)s / %(total)s  (%(seconds)s s)",
            stage=stage.rjust(8),
            done=format(done, ">9,"),
            total=format(total, ","),
            seconds=format(elapsed, "5.0f"),
        )
        click.echo("\r" + line, nl=False)
        if done >= total:
            click.echo()

    counts = demo.scale(users, units, modules, progress)
    db.session.commit()
    click.echo(
        gettext(
            "Created %(people)s people in %(units)s units with %(completions)s completions "
            "in %(seconds)s s.",
            people=format(counts["people"], ","),
            units=counts["units"],
            completions=format(counts["completions"], ","),
            seconds=format(time.perf_counter() - started, ".0f"),
        )
    )
