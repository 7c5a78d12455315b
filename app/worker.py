"""The background worker: builds the application, runs its jobs and owns their commits.

Two kinds of job: print jobs (people's training records, or a session's pack), and the
documents a committed change makes due (a certificate issued, a record changed: see
app.services.pending). Each is queued on Redis
(REDIS_URL, served by `flask worker`) or, without Redis, on threads of the web process.
Either way the work happens here, outside any request: the services it calls only
flush, and this module commits after each step a person sees (the job taken, each chunk
done, the file or the error; each document stored).
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, BinaryIO, TypeVar, cast

import rq
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db
from app.models import Certificate, PrintJob, Unit, User
from app.services import classroom, documents, pending, printing
from app.services.documents import StoredRecord
from app.services.pending import DueDocuments
from app.services.printing import MIMETYPES, BatchFile, PrintError, PrintOutput
from config import Config

QUEUE_NAME = "certificates"
# Certificates and records to render once issued: a queue of their own, served first, so
# that they never wait behind a battalion's print job.
DOCUMENTS_QUEUE = "documents"

log = logging.getLogger(__name__)
T = TypeVar("T")


# Queueing ------------------------------------------------------------------------------

_threads: ThreadPoolExecutor | None = None
_document_thread: ThreadPoolExecutor | None = None
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
        printing.fail(job, "queue-unreachable")


def queue(redis_url: str, name: str = QUEUE_NAME) -> rq.Queue:
    """Return a Redis queue: print jobs' by default, or the documents' (DOCUMENTS_QUEUE)."""
    return rq.Queue(name, connection=redis_connection(redis_url))


@functools.lru_cache(maxsize=4)
def redis_connection(redis_url: str) -> Redis:
    """Return this process's client of a Redis server, whose connections it keeps open.

    A quiz pass queues its documents: a connection made afresh each time would cost the
    request more than queueing them does. redis-py starts a new pool in a forked process.
    """
    return Redis.from_url(redis_url)


def in_process_pool(workers: int) -> ThreadPoolExecutor:
    """Return this process's job threads, started on first use."""
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(max(1, workers), thread_name_prefix="print-job")
        return _threads


def in_document_thread() -> ThreadPoolExecutor:
    """Return this process's thread for documents, started on first use.

    One: it renders a document at a time, leaving the other cores to the requests.
    """
    global _document_thread
    with _threads_lock:
        if _document_thread is None:
            _document_thread = ThreadPoolExecutor(1, thread_name_prefix="documents")
        return _document_thread


# Documents due after a commit ----------------------------------------------------------


def init_app(app: Flask) -> None:
    """Hand the documents a change makes due to the background once it is committed."""
    if not sa.event.contains(Session, "after_commit", documents_committed):
        sa.event.listen(Session, "after_commit", documents_committed)
        sa.event.listen(Session, "after_soft_rollback", documents_rolled_back)


def documents_committed(session: Session) -> None:
    """Queue the documents a committed change made due; delete the files it discarded."""
    if session.get_nested_transaction() is not None:
        return  # a savepoint: the change is not committed yet
    due = pending.take(session)
    if due is None:
        return
    try:
        if due.discarded:
            documents.document_store().delete(due.discarded)
        if (due.certificate_ids or due.user_ids) and current_app.config["PRERENDER_DOCUMENTS"]:
            enqueue_documents(due)
    except Exception:
        # The change is committed: a document not rendered now is on its first download.
        log.exception("Documents due after a commit were not handed to the background")


def documents_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """Forget the documents a change made due when the change is rolled back."""
    # A savepoint rolled back (a retried insert) leaves the rest of the change standing.
    if previous.parent is None:
        pending.forget(session)


def enqueue_documents(due: DueDocuments) -> None:
    """Render documents in the background: on the Redis queue if REDIS_URL is set, else a thread."""
    redis_url = current_app.config["REDIS_URL"]
    if not redis_url:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        in_document_thread().submit(render_documents_in_app, app, due)
        return
    queue(redis_url, DOCUMENTS_QUEUE).enqueue(
        render_queued_documents,
        due,
        job_timeout=int(printing.JOB_TIMEOUT.total_seconds()),
        description=f"{len(due.certificate_ids)} certificates, {len(due.user_ids)} records",
    )


def render_documents_in_app(app: Flask, due: DueDocuments) -> None:
    """Render due documents in a thread of this process, in the application's context."""
    in_app(app, functools.partial(render_due, due), "Documents due could not be rendered")


def render_queued_documents(due: DueDocuments) -> None:
    """Render due documents for the Redis queue, building the application if needed."""
    in_built_app(functools.partial(render_due, due))


def render_due(due: DueDocuments) -> None:
    """Render and store the certificates and training records due, committing each."""
    for certificate_id in sorted(due.certificate_ids):
        certificate = db.session.get(Certificate, certificate_id)
        if certificate is not None and certificate.revoked_at is None:
            documents.certificate_document(certificate, due.base_url)
            db.session.commit()
    for user_id in sorted(due.user_ids):
        user = db.session.get(User, user_id)
        if user is not None:
            documents.record_document(user, due.base_url)
            db.session.commit()


# Running -------------------------------------------------------------------------------


def run_in_app(app: Flask, base_url: str) -> None:
    """Run the next job in turn in a thread of this process, in the application's context."""
    in_app(app, functools.partial(run_next, base_url), "A print job could not be run")


def run_queued_job(base_url: str) -> None:
    """Run the next job in turn for the Redis queue, building the application if needed."""
    in_built_app(functools.partial(run_next, base_url))


def in_app(app: Flask, step: Callable[[], object], failure: str) -> None:
    """Take a step in a thread of this process, in the application's context."""
    with app.app_context():
        try:
            step()
        except Exception:
            # Nobody waits on this thread's result: say what went wrong in the log.
            log.exception(failure)


def in_built_app(step: Callable[[], object]) -> None:
    """Take a step for the Redis queue, in the application's context, building it if needed."""
    if has_app_context():
        step()
        return
    from app import create_app

    with create_app().app_context():
        step()


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
        # Written to disk as it is made, then handed to the document store piece by piece.
        with tempfile.TemporaryFile() as file:
            batch = render_job(job, base_url, file, save_progress)
            printing.finish(job, batch, file)
    except Exception as error:
        db.session.rollback()
        log.exception("Print job %s failed", job_id)
        printing.fail(job, printing.failure(error))
    db.session.commit()
    return job


# Rendering -----------------------------------------------------------------------------


def render_job(
    job: PrintJob, base_url: str, target: BinaryIO, progress: Callable[[int], None]
) -> BatchFile:
    """Write a job's file on `target`: a session's pack, or people's training records."""
    if job.session_id is not None:
        return classroom.write_pack(job, target, base_url, progress)
    return render_batch(
        job.user_ids, job.output, base_url, target, printing.job_unit(job), progress
    )


def render_batch(
    user_ids: Sequence[int],
    output: str,
    base_url: str,
    target: BinaryIO,
    unit: Unit | None = None,
    progress: Callable[[int], None] = lambda done: None,
) -> BatchFile:
    """Write people's training records into one PDF or a ZIP of PDFs, on `target`.

    Records stored as they stand today are used as they are; only the others are
    rendered (and stored), chunk by chunk, in worker processes for more than a chunk.
    `progress` is called with the number of people whose record is ready after each
    chunk; the records' links point to `base_url`.
    """
    kind = PrintOutput(output)
    ids = list(user_ids)
    known = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.id.in_(ids)))
    if known != len(ids):
        raise PrintError.of("people-gone")
    stored = documents.stored_records(ids, base_url)
    changed = [user_id for user_id in ids if user_id not in stored]
    if changed:
        chunks, processes = printing.plan(changed, int(current_app.config["PRINT_WORKERS"]))
        render = functools.partial(render_records, base_url=base_url)
        for rendered in render_chunks(render, chunks, processes):
            stored.update(rendered)
            progress(len(stored))
    else:
        progress(len(ids))
    name = printing.batch_filename(unit, kind)
    if kind == PrintOutput.PDF:
        records = (stored[user_id] for user_id in ids)
        pages = printing.merge_records(records, target, name.removesuffix(".pdf"))
    else:
        numbers = dict(
            db.session.execute(
                sa.select(User.id, User.service_number).where(User.id.in_(ids))
            ).all()
        )
        pages = printing.zip_records(((numbers[i], stored[i]) for i in ids), target)
    return BatchFile(name, MIMETYPES[kind], len(ids), pages)


def render_records(user_ids: list[int], base_url: str) -> list[tuple[int, StoredRecord]]:
    """Render and store the training records that changed of a chunk of people.

    One commit for the chunk, once all are rendered (a commit waits for the disk).
    """
    with printing.chunk_people(user_ids) as people:
        rendered = printing.store_records(people, base_url)
        db.session.commit()
    return rendered


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
