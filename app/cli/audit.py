"""flask audit verify|checkpoint: check the audit trail, and sign its head to keep elsewhere."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from flask_babel import gettext

from app.cli.common import EXISTING_FILE, fail
from app.extensions import db
from app.services import audit, signing

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option(
    "--expect-head",
    metavar="HASH",
    help="A hash printed earlier (by verify or checkpoint): its entry must still be there.",
)
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=EXISTING_FILE,
    help="A signed checkpoint written by `flask audit checkpoint`, kept outside the database.",
)
def audit_verify(expect_head: str | None, checkpoint_file: Path | None) -> None:
    """Check the audit trail's keyed hash chain; exit 1 if it was changed, cut or rewritten."""
    expect_entries = None
    if checkpoint_file is not None:
        if expect_head:
            raise click.UsageError(gettext("Give --expect-head or --checkpoint, not both."))
        expect_head, expect_entries = read_checkpoint_file(checkpoint_file)
    if expect_head is not None:
        expect_head = expect_head.strip().lower()
    result = audit.check_chain(expect_head, expect_entries)
    if result.broken is not None:
        fail(
            gettext(
                "Audit trail broken at entry %(entry)s: %(reason)s "
                "(%(checked)s entries before it are intact).",
                entry=result.broken.entry_id,
                reason=result.broken.reason,
                checked=result.checked,
            )
        )
    click.echo(
        gettext(
            "Audit trail intact: %(checked)s entries. Last hash: %(head)s",
            checked=result.checked,
            head=result.head or "-",
        )
    )
    if result.unkeyed:
        click.echo(
            gettext(
                "%(unkeyed)s entries were written before the trail was keyed: only a "
                "checkpoint or a hash kept from that time vouches for them.",
                unkeyed=result.unkeyed,
            )
        )
    if expect_head:
        click.echo(
            gettext("The expected entry %(head)s is in the trail, unchanged.", head=expect_head)
        )
    else:
        click.echo(
            gettext(
                "Entries removed from the end are detected only against a hash kept outside "
                "the database: pass --expect-head or --checkpoint."
            )
        )


@audit_cli.command("checkpoint")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the checkpoint to this file (never overwritten) instead of printing it.",
)
def audit_checkpoint(output: Path | None) -> None:
    """Sign the trail's newest hash with the certificate key; print it or write it to keep."""
    try:
        document = audit.checkpoint()
    except signing.SigningKeyError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if output is None:
        db.session.commit()
        click.echo(text, nl=False)
        return
    try:
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as error:
        db.session.rollback()
        raise click.ClickException(
            gettext("Cannot write %(path)s: %(reason)s.", path=output, reason=error.strerror)
        ) from None
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    db.session.commit()
    click.echo(
        gettext(
            "Wrote the checkpoint of %(entries)s entries (head %(head)s) to %(path)s.",
            entries=document["entries"],
            head=document["head"],
            path=output,
        )
    )


def read_checkpoint_file(path: Path) -> tuple[str, int]:
    """Return the head and entry count of a checkpoint file whose signature holds."""
    try:
        document: Any = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise click.ClickException(
            gettext("Cannot read the checkpoint %(path)s: %(error)s", path=path, error=error)
        ) from None
    try:
        return audit.read_checkpoint(document, signing.public_keys())
    except (audit.AuditKeyError, signing.SigningKeyError) as error:
        raise click.ClickException(gettext("%(path)s: %(error)s", path=path, error=error)) from None
