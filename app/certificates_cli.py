"""flask certificates ...: sign, verify and print certificates from the command line."""

from __future__ import annotations

from flask.cli import AppGroup

certificates_cli = AppGroup("certificates", help="Sign, verify and print certificates.")

# The commands live beside the features they serve.
from app import printing_cli, signing_cli  # noqa: E402, F401
