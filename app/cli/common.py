"""What every command shares: how it reports a failure and stops."""

from __future__ import annotations

from typing import NoReturn

import click


def fail(message: str) -> NoReturn:
    """Print why the command stopped, and exit with status 1."""
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)
