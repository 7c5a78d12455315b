"""flask worker: run the jobs of the Redis queues: documents to render, print jobs."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext
from rq import Worker

from app import worker
from app.cli.common import fail


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Render documents and run print jobs from the Redis queues (REDIS_URL) until stopped."""
    redis_url = current_app.config["REDIS_URL"]
    if not redis_url:
        fail(
            gettext(
                "There is no queue to serve: set REDIS_URL to your Redis server, for example "
                "redis://127.0.0.1:6379/0. Without it, print jobs run inside the web "
                "application and need no worker."
            )
        )
    # Documents first: a certificate just issued should not wait behind a battalion.
    queues = [worker.queue(redis_url, worker.DOCUMENTS_QUEUE), worker.queue(redis_url)]
    Worker(queues, connection=queues[0].connection).work(burst=burst)
