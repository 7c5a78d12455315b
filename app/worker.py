"""The print worker: builds the application, runs print jobs and owns their commits.

A job is queued on Redis (REDIS_URL, served by `flask worker`) or, without Redis, on
threads of the web process. Either way the work happens here, outside any request: the
services it calls only flush, and this module commits after each step a person sees
(the job taken, each chunk done, the file or the error).
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import pickle
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, TypeVar, cast

import rq
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask_babel import gettext
from redis import Redis
from redis.exceptions import RedisError

from app.extensions import db
from app.models import PrintJob, Unit, User
from app.services import printing
from app.services.printing import MIMETYPES, BatchFile, PrintError, PrintOutput
from config import Config

QUEUE_NAME = "certificates"

log = logging.getLogger(__name__)
T = TypeVar("T")


# Queueing ------------------------------------------------------------------------------

_threads: ThreadPoolExecutor | None = None
_threads_lock = threading.Lock()


def enqueue(job: PrintJob, base_url: str) -> None:
    """Hand a committed job to the workers: the Redis queue if REDIS_URL is set, else threads.

    Each job queued is one turn for a worker, which then runs whichever waiting job is
    next in turn (`printing.next_job_id`), not necessarily this one: requesters are served
    in turn rather than first come, first served.

    `base_url` is where the records' verify links point: PUBLIC_BASE_URL, or without it the
    address of the request that queued the turn, the same site whichever job the turn
    runs. A queue that cannot be reached fails the job with a clear message (flushed).
    """
    redis_url = current_app.config["REDIS_URL"]
    if not redis_url:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        in_process_pool(int(current_app.config["PRINT_WORKERS"])).submit(run_in_app, app, base_url)
        return
    try:
        queue(redis_url).enqueue(
            run_queued_job,
            base_url,
            job_timeout=int(printing.JOB_TIMEOUT.total_seconds()),
            description=f"the next print job in turn (queued with job {job.id})",
        )
    except RedisError:
        log.exception("Could not queue print job %s", job.id)
        printing.fail(
            job, gettext("The print queue cannot be reached. Try again in a few minutes.")
        )


def queue(redis_url: str) -> rq.Queue:
    """Return the Redis queue print jobs go to."""
    return rq.Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))


def in_process_pool(workers: int) -> ThreadPoolExecutor:
    """Return this process's job threads, started on first use."""
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(max(1, workers), thread_name_prefix="print-job")
        return _threads


# Running -------------------------------------------------------------------------------


def run_in_app(app: Flask, base_url: str) -> None:
    """Run the next job in turn in a thread of this process, in the application's context."""
    with app.app_context():
        try:
            run_next(base_url)
        except Exception:
            # Nobody waits on this thread's result: say what went wrong in the log.
            log.exception("A print job could not be run")


def run_queued_job(base_url: str) -> None:
    """Run the next job in turn for the Redis queue, building the application if needed."""
    if has_app_context():
        run_next(base_url)
        return
    from app import create_app

    with create_app().app_context():
        run_next(base_url)


def run_next(base_url: str) -> PrintJob | None:
    """Run the waiting job whose turn it is; None when no job is waiting."""
    while (job_id := printing.next_job_id()) is not None:
        job = run_job(job_id, base_url)
        if job is not None:
            return job
        # Another worker took that one meanwhile: take the next.
    return None


def run_job(job_id: int, base_url: str) -> PrintJob | None:
    """Render a queued job, saving progress after each chunk, then its file or its error.

    Returns None when the job is gone or another worker has already taken it.
    """
    job = printing.claim(job_id)
    db.session.commit()
    if job is None:
        return None

    def save_progress(done: int) -> None:
        job.done = done
        db.session.commit()

    try:
        batch = render_batch(
            job.user_ids, job.output, base_url, printing.job_unit(job), save_progress
        )
    except Exception as error:
        db.session.rollback()
        log.exception("Print job %s failed", job_id)
        printing.fail(job, printing.failure_message(error))
    else:
        printing.finish(job, batch)
    db.session.commit()
    return job


# Rendering -----------------------------------------------------------------------------


def render_batch(
    user_ids: Sequence[int],
    output: str,
    base_url: str,
    unit: Unit | None = None,
    progress: Callable[[int], None] = lambda done: None,
) -> BatchFile:
    """Render people's training records, chunk by chunk, into one PDF or a ZIP of PDFs.

    `progress` is called with the number of people done after each chunk; the records'
    links point to `base_url`.
    """
    kind = PrintOutput(output)
    ids = list(user_ids)
    known = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.id.in_(ids)))
    if known != len(ids):
        raise PrintError(
            gettext("Some of the people selected no longer exist. Select them again and print.")
        )
    chunks, processes = printing.plan(ids, int(current_app.config["PRINT_WORKERS"]))
    name = printing.batch_filename(unit, kind)
    if kind == PrintOutput.PDF:
        title = name.removesuffix(".pdf")
        pdf_chunk = functools.partial(printing.pdf_chunk, base_url=base_url, title=title)
        content, pages = printing.merge_pdf(render_chunks(pdf_chunk, chunks, processes), progress)
    else:
        zip_chunk = functools.partial(printing.zip_chunk, base_url=base_url)
        content, pages = printing.zip_people(render_chunks(zip_chunk, chunks, processes), progress)
    return BatchFile(name, MIMETYPES[kind], content, len(ids), pages)


def render_chunks(
    render: Callable[[list[int]], T], chunks: list[list[int]], processes: int
) -> Iterator[T]:
    """Render chunks in order, in that many worker processes (none: in this one)."""
    if processes == 0:
        for chunk in chunks:
            yield render(chunk)
        return
    # Spawned, not forked: forking a multi-threaded server can copy locks held by others.
    with ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_process,
        initargs=(process_settings(current_app),),
    ) as pool:
        yield from pool.map(render, chunks)


def process_settings(app: Flask) -> dict[str, Any]:
    """Return the application's settings, for a worker process to build the same app."""
    settings = {}
    for key, value in app.config.items():
        try:
            pickle.dumps(value)
        except (pickle.PicklingError, TypeError, AttributeError):
            continue
        settings[key] = value
    return settings


def start_process(settings: dict[str, Any]) -> None:
    """Build the application in a worker process, once for all the chunks it renders."""
    from app import create_app

    config = cast(type[Config], type("PrintWorkerConfig", (Config,), settings))
    create_app(config).app_context().push()
