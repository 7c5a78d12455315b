"""A bare Flask application that answers "Hello, World!": the yardstick of bench/pages.py."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    """Answer with a greeting and nothing else."""
    return "Hello, World!"
