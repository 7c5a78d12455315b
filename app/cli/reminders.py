"""flask reminders send: e-mail people whose training is overdue or expiring."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext

from app.cli.common import fail
from app.extensions import db
from app.services import mail, reminders
from app.services.reporting import State

reminders_cli = AppGroup("reminders", help="E-mail reminders of overdue or expiring training.")


@reminders_cli.command("send")
@click.option(
    "--dry-run", is_flag=True, help="List who would be reminded; send and record nothing."
)
@click.option(
    "--within",
    "within_days",
    type=click.IntRange(min=0),
    metavar="DAYS",
    help="Remind of completions expiring within DAYS days (default: EXPIRING_WITHIN_DAYS).",
)
def reminders_send(dry_run: bool, within_days: int | None) -> None:
    """E-mail everyone whose mandatory training is overdue or expires soon."""
    config = current_app.config
    if not dry_run and not mail.is_configured():
        fail(
            gettext(
                "Reminders cannot be sent: MAIL_SERVER is not set. Set MAIL_SERVER "
                "(and MAIL_PORT, MAIL_FROM, and MAIL_USERNAME and MAIL_PASSWORD if the "
                "server needs them) to your SMTP server, or use --dry-run to see who "
                "would be reminded."
            )
        )
    if not config["PUBLIC_BASE_URL"] and not config.get("SERVER_NAME"):
        fail(
            gettext(
                "Reminders link to the sign-in page: set PUBLIC_BASE_URL to the "
                "platform's address, for example https://training.example.org."
            )
        )
    within = config["EXPIRING_WITHIN_DAYS"] if within_days is None else within_days
    dues = reminders.due(None, within)
    outcome = reminders.send(dues, dry_run=dry_run)
    if not dry_run:
        db.session.commit()

    failed = {failure.due.user.id: failure for failure in outcome.failures}
    for item in dues:
        values = {
            "name": item.user.full_name,
            "address": item.address,
            "modules": modules_text(item),
        }
        if item.user.id in failed:
            reason = failed[item.user.id].reason
            click.echo(
                gettext("Not sent to %(name)s <%(address)s>: %(reason)s", **values, reason=reason),
                err=True,
            )
        elif dry_run:
            click.echo(gettext("Would remind %(name)s <%(address)s>: %(modules)s", **values))
        else:
            click.echo(gettext("Reminded %(name)s <%(address)s>: %(modules)s", **values))
    click.echo(reminders.summary(outcome))
    if outcome.failures:
        raise click.exceptions.Exit(1)


def modules_text(item: reminders.Due) -> str:
    """Return the modules of a reminder on one line, each with its date."""
    parts = []
    for module in item.modules:
        if module.state == State.OVERDUE:
            text = gettext(
                "%(title)s (overdue, due %(date)s)", title=module.title, date=module.on.isoformat()
            )
        else:
            text = gettext(
                "%(title)s (expires %(date)s)", title=module.title, date=module.on.isoformat()
            )
        parts.append(str(text))
    return "; ".join(parts)
