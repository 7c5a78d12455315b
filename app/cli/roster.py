"""flask roster import FILE [--dry-run]: load a personnel roster from the command line."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask_babel import gettext

from app.cli.common import EXISTING_FILE, fail
from app.extensions import db
from app.models import Unit
from app.services import accounts, links, roster

roster_cli = AppGroup("roster", help="Import personnel rosters.")


@roster_cli.command("import")
@click.argument("file", type=EXISTING_FILE)
@click.option("--dry-run", is_flag=True, help="Check the file and show what it would change.")
def roster_import(file: Path, dry_run: bool) -> None:
    """Import a roster (XLSX, ODS or CSV) into any unit and print the set-password links."""
    # The command line acts as an administrator: every unit is in scope.
    units = db.session.scalars(sa.select(Unit)).all()
    checked = roster.preview(file.read_bytes(), units)
    if not checked.is_valid:
        for problem in checked.problems:
            click.echo(str(problem), err=True)
        fail(gettext("Nothing was imported: fix these problems and run the import again."))
    summary = gettext(
        "%(create)s to create, %(update)s to update, %(unchanged)s unchanged.",
        create=checked.count(roster.Action.CREATE),
        update=checked.count(roster.Action.UPDATE),
        unchanged=checked.count(roster.Action.UNCHANGED),
    )
    if dry_run:
        click.echo(gettext("Dry run, nothing changed: %(summary)s", summary=summary))
        return
    if not links.can_build_links():
        fail(
            gettext(
                "Nothing was imported: set PUBLIC_BASE_URL to the platform's address, "
                "for example https://training.example.org, so that set-password links "
                "can be printed."
            )
        )
    result = roster.apply(checked)
    db.session.commit()
    click.echo(
        gettext(
            "Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
            created=len(result.created),
            updated=result.updated,
            unchanged=result.unchanged,
        )
    )
    delivery = roster.email_links(result.created)
    print_links(gettext("Set-password links of the new people"), result.created, delivery)
    print_links(
        gettext("New links for people who have not set a password yet"),
        result.awaiting_password,
    )
    for address in delivery.failed:
        click.echo(
            gettext("Could not e-mail %(email)s: hand them the printed link.", email=address),
            err=True,
        )


def print_links(
    title: str, people: list[roster.LinkedAccount], delivery: roster.Delivery | None = None
) -> None:
    """Print one line per person: service number, name, link, and whether it was e-mailed."""
    if not people:
        return
    click.echo(
        gettext(
            "%(title)s (each works once, for %(days)s days):",
            title=title,
            days=accounts.link_days(),
        )
    )
    for person in people:
        sent = delivery is not None and person.user_id in delivery.sent
        line = f"  {person.service_number}\t{person.full_name}\t{person.link}"
        click.echo(line + (" " + gettext("(e-mailed)") if sent else ""))
