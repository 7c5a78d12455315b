"""flask certificates print: certificates for a whole unit; flask worker: the print queue."""

from __future__ import annotations

import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import NoReturn

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext
from rq import Worker

from app import worker
from app.certificates_cli import certificates_cli
from app.extensions import db
from app.models import Unit
from app.services import organisation, printing, readiness


@certificates_cli.command("print")
@click.option("--unit", "unit_code", required=True, help="The unit's code; its sub-units too.")
@click.option("--zip", "as_zip", is_flag=True, help="One PDF per person in a ZIP file.")
@click.option("--ready-only", is_flag=True, help="Only the people who are Ready to deploy.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the file (default: its own name, in this folder).",
)
def print_unit(unit_code: str, as_zip: bool, ready_only: bool, output: Path | None) -> None:
    """Print the training records of a unit's people: one PDF, or a ZIP of one PDF each."""
    config = current_app.config
    if not config["PUBLIC_BASE_URL"]:
        fail(
            gettext(
                "Records carry a QR code that links to the platform: set PUBLIC_BASE_URL "
                "to its address, for example https://training.example.org."
            )
        )
    # The command line acts as an administrator: every unit is in scope.
    units = list(db.session.scalars(sa.select(Unit)))
    unit = next((u for u in units if u.code.lower() == unit_code.strip().lower()), None)
    if unit is None:
        fail(
            gettext(
                "There is no unit with the code %(code)s. Codes: %(codes)s.",
                code=unit_code,
                codes=", ".join(sorted(u.code for u in units)) or "-",
            )
        )
    people = readiness.board(organisation.subtree_ids(units, unit.id))
    ids = printing.ready_ids(people) if ready_only else [p.user_id for p in people]
    if not ids:
        fail(gettext("No one to print in %(unit)s.", unit=unit.name))
    ids = printing.print_order(ids)
    kind = printing.PrintOutput.ZIP if as_zip else printing.PrintOutput.PDF
    started = time.perf_counter()
    label = gettext("Printing %(unit)s", unit=unit.name)
    with click.progressbar(length=len(ids), label=label, show_pos=True) as bar:

        def advance(done: int) -> None:
            bar.update(done - bar.pos)

        try:
            batch = worker.render_batch(ids, kind, str(config["PUBLIC_BASE_URL"]), unit, advance)
        except (printing.PrintError, BrokenProcessPool) as error:
            fail(printing.failure_message(error))
    path = output or Path.cwd() / batch.filename
    path.write_bytes(batch.content)
    click.echo(
        gettext(
            "Wrote %(path)s: %(people)s people, %(pages)s pages in %(seconds).1f s.",
            path=path,
            people=batch.people,
            pages=batch.pages,
            seconds=time.perf_counter() - started,
        )
    )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run print jobs from the Redis queue (REDIS_URL) until stopped."""
    redis_url = current_app.config["REDIS_URL"]
    if not redis_url:
        fail(
            gettext(
                "There is no queue to serve: set REDIS_URL to your Redis server, for example "
                "redis://127.0.0.1:6379/0. Without it, print jobs run inside the web "
                "application and need no worker."
            )
        )
    queue = worker.queue(redis_url)
    Worker([queue], connection=queue.connection).work(burst=burst)


def fail(message: str) -> NoReturn:
    """Print why the command stopped, and exit with status 1."""
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)
