"""What every command shares: the files it reads, how it reports a failure and stops."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

# An option or argument naming a file that must already exist, given as a Path.
EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def fail(message: str) -> NoReturn:
    """Print why the command stopped, and exit with status 1."""
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)
