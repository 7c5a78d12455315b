"""flask reports rebuild|refresh|check: the counts report pages read, kept by the database."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import gettext, ngettext

from app.cli.common import fail
from app.extensions import db
from app.services.reporting import Cutoffs, summary

reports_cli = AppGroup("reports", help="The counts behind the report pages.")


@reports_cli.command("rebuild")
def reports_rebuild() -> None:
    """Count everyone again from people and their training records."""
    rows = summary.rebuild()
    db.session.commit()
    click.echo(gettext("Report counts rebuilt: %(rows)s rows.", rows=rows))


@reports_cli.command("refresh")
def reports_refresh() -> None:
    """Bring the counts to today and fold the day's changes into them (run daily)."""
    rows = summary.refresh()
    db.session.commit()
    click.echo(gettext("Report counts brought to the present: %(rows)s rows.", rows=rows))


@reports_cli.command("check")
def reports_check() -> None:
    """Compare the counts with people and their records; exit 1 on any difference."""
    found = summary.differences(Cutoffs.at())
    if found is None:
        fail(
            gettext(
                "The report counts have not been built with the lead times now configured: "
                "run `flask reports rebuild`. Reports count from the source meanwhile."
            )
        )
    for difference in found:
        click.echo(
            gettext(
                "unit %(unit)s, %(category)s, module %(module)s, %(state)s: "
                "%(summary)s counted, %(source)s in the records",
                unit=difference.unit_id,
                category=difference.category,
                module=difference.module_id,
                state=difference.state,
                summary=difference.summary,
                source=difference.source,
            )
        )
    if found:
        fail(
            ngettext(
                "%(num)s count differs from the records: run `flask reports rebuild`.",
                "%(num)s counts differ from the records: run `flask reports rebuild`.",
                len(found),
            )
        )
    click.echo(gettext("The report counts match people and their records."))
