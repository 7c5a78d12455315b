"""Blue Beret as bench/pages.py serves it: the application, and the least a signed-in page costs.

`/bench/floor` answers a signed-in person with two letters and does nothing else, so it
costs what every signed-in request pays before and after its own work: the session
cookie read and checked, the person loaded and their session's limits enforced, the rate
limits, the language chosen, the security headers. No page of the application can answer
faster, which is what the ratios of bench/pages.py are read against.
"""

from __future__ import annotations

from flask import Flask
from flask_login import login_required

from app import create_app


def create() -> Flask:
    """Return the application with the floor's route added, for the benchmark only."""
    app = create_app()

    @app.route("/bench/floor")
    @login_required
    def floor() -> str:
        return "ok"

    return app
