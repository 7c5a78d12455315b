"""Measure certificates: a stored download against a render, and a battalion printed.

Run with `make bench`. Everything is measured side by side in one run, so the ratios hold
even on a busy machine; absolute times do not. The data lives in a throwaway SQLite
database: one unit of PEOPLE people, each holding a certificate for every mandatory module.

- one certificate, warm: the median time to render a module certificate and a person's
  training record (their data prepared beforehand), and to download a stored certificate
  and a stored record (signed in, through the application, as a browser would);
- a battalion: every person's training record printed into one PDF through the batch
  path, twice: first with every record changed (none stored: each is rendered, in worker
  processes, and stored), then with nothing changed since (every record merged as
  stored), against the naive way: every record in ONE HTML document rendered by one
  WeasyPrint call. Each runs in a process of its own, so its peak memory is measured
  apart: the largest resident size of the process and of its largest worker and,
  sampled from /proc, of its whole process tree at once.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import weasyprint  # noqa: E402
from battalion import UNIT_CODE, add_battalion  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from app import create_app, worker  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Certificate,
    Completion,
    Document,
    DocumentKind,
    QuizAttempt,
    TrainingRecord,
    Unit,
    User,
)
from app.models.types import utcnow  # noqa: E402
from app.services import certificates, content, curriculum, printing  # noqa: E402
from config import Config  # noqa: E402

BASE_URL = "https://training.example.org"
# Against the naive one-document render of the battalion.
GOAL_UNCHANGED = 0.05
GOAL_CHANGED = 0.5
GOAL_MIB = 200
BENCH_PASSWORD = "bench certificates downloaded"  # noqa: S105  (a throwaway database)


def bench_config(database: Path) -> type[Config]:
    """Return the configuration of the throwaway database."""

    class Bench(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{database}"
        DEMO_MODE = False
        PUBLIC_BASE_URL = BASE_URL
        PDF_LIMIT_PER_USER = "100000 per minute"

    return Bench


def build(database: Path, people: int) -> None:
    """Create one unit of people, each with a certificate for every mandatory module."""
    app = create_app(bench_config(database))
    with app.app_context():
        db.create_all()
        content.sync_modules(app.config["MODULES_DIR"])
        rng = random.Random(850)  # noqa: S311  (repeatable data, not secrets)
        now = utcnow()
        unit = add_battalion(people, rng, now)
        users = db.session.execute(sa.select(User.id, User.full_name, User.service_number)).all()
        versions = curriculum.required_versions(db.session.scalars(sa.select(User)).first())
        attempts, completions, certificate_rows, record_rows = [], [], [], []
        attempt_id = 0
        for user_id, name, number in users:
            for version in versions:
                attempt_id += 1
                done = now - timedelta(days=rng.randint(1, 300))
                expires = done + timedelta(days=30 * version.validity_months)
                attempts.append(
                    {"id": attempt_id, "user_id": user_id, "module_version_id": version.id,
                     "questions": [], "answers": {}, "score": 100, "passed": True,
                     "started_at": done - timedelta(minutes=20), "submitted_at": done}
                )  # fmt: skip
                completions.append(
                    {"id": attempt_id, "user_id": user_id, "module_id": version.module_id,
                     "module_version_id": version.id, "attempt_id": attempt_id,
                     "completed_at": done, "expires_at": expires}
                )  # fmt: skip
                certificate_rows.append(
                    {"completion_id": attempt_id, "code": certificates.new_code(),
                     "holder_name": name, "service_number": number,
                     "category": "military_contingent", "unit_name": unit.name,
                     "module_title": version.title, "module_version": version.label,
                     "completed_at": done, "expires_at": expires,
                     "attestation": version.attestation,
                     "attested_at": done if version.attestation else None, "issued_at": done}
                )  # fmt: skip
                record_rows.append(
                    {"user_id": user_id, "module_id": version.module_id, "valid_until": expires}
                )
        for model, rows in (
            (QuizAttempt, attempts),
            (Completion, completions),
            (Certificate, certificate_rows),
            (TrainingRecord, record_rows),
        ):
            db.session.execute(sa.insert(model), rows)
        db.session.commit()


def median_ms(action: Callable[[], Any], runs: int) -> float:
    """Run an action twice to warm up, then return the median of `runs` timings in ms."""
    action()
    action()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def measure_one(database: Path, runs: int) -> dict[str, float]:
    """Time one certificate and one record: rendered, and downloaded as stored."""
    app = create_app(bench_config(database))
    root = app.config["CERTIFICATES_DIR"]
    results: dict[str, float] = {}
    with app.test_request_context(base_url=BASE_URL):
        person = db.session.scalars(sa.select(User).where(User.unit_id.is_not(None))).first()
        certificate = certificates.current_certificates(person)[0]
        module_data = certificates.document_data(certificate)
        record_data = certificates.consolidated_data(person)
        module, record = certificates.MODULE_CERTIFICATE, certificates.CONSOLIDATED
        results["render: module certificate"] = median_ms(
            lambda: certificates.render_pdf(root, module_data, module), runs
        )
        results["render: training record"] = median_ms(
            lambda: certificates.render_pdf(root, record_data, record), runs
        )
        results["training record data (queries, signature, QR)"] = median_ms(
            lambda: certificates.consolidated_data(person), runs
        )
        code, username = certificate.code, person.username
        person.set_password(BENCH_PASSWORD)
        db.session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": token, "username": username, "password": BENCH_PASSWORD}
    assert client.post("/login", data=form).status_code == 302

    def download(url: str) -> Callable[[], None]:
        """Return a download by the person, signed in, through the whole application."""

        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            assert response.data.startswith(b"%PDF")

        return get

    results["download: stored certificate"] = median_ms(
        download(f"/training/certificates/{code}.pdf"), runs
    )
    results["download: stored training record (fingerprint checked)"] = median_ms(
        download("/training/record.pdf"), runs
    )
    return results


# The two ways of printing a battalion, each run in a process of its own ----------------


def unit_people() -> list[int]:
    """Return the ids of the bench unit's people, in print order."""
    ids = db.session.scalars(
        sa.select(User.id).join(Unit, Unit.id == User.unit_id).where(Unit.code == UNIT_CODE)
    ).all()
    return printing.print_order(ids)


def run_batch(database: Path) -> dict[str, Any]:
    """Print the unit through the batch path, as a print job does, to a file on disk."""
    app = create_app(bench_config(database))
    with app.app_context():
        ids = unit_people()
        before = stored_records()
        with tempfile.TemporaryFile() as file:
            started = time.perf_counter()
            batch = worker.render_batch(ids, "pdf", BASE_URL, file)
            seconds = time.perf_counter() - started
            size = file.seek(0, 2)
        return {"seconds": seconds, "pages": batch.pages, "bytes": size,
                "rendered": stored_records() - before,
                "workers": app.config["PRINT_WORKERS"]}  # fmt: skip


def stored_records() -> int:
    """Count the training records stored so far."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count(Document.id)).where(Document.kind == DocumentKind.RECORD)
        )
        or 0
    )


def run_naive(database: Path) -> dict[str, Any]:
    """Print the unit as ONE HTML document rendered by one WeasyPrint call."""
    app = create_app(bench_config(database))
    with app.test_request_context(base_url=BASE_URL):
        design = certificates.load_design(
            Path(app.config["CERTIFICATES_DIR"]).resolve(), certificates.CONSOLIDATED
        )
        started = time.perf_counter()
        bodies = []
        for person in db.session.scalars(sa.select(User).where(User.id.in_(unit_people()))):
            page = design.template.render(**certificates.consolidated_data(person))
            body = page.split("<body>", 1)[1].rsplit("</body>", 1)[0]
            bodies.append(f'<section style="break-before: page">{body}</section>')
        html = "<!doctype html><html lang=en><meta charset=utf-8><body>" + "".join(bodies)
        data_seconds = time.perf_counter() - started
        pdf = weasyprint.HTML(
            string=html, base_url=design.root.as_uri() + "/", url_fetcher=design.fetcher
        ).write_pdf(stylesheets=[design.stylesheet], font_config=design.fonts)
        seconds = time.perf_counter() - started
        assert pdf is not None
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        return {"seconds": seconds, "render_seconds": seconds - data_seconds,
                "bytes": len(pdf), "pages": pages, "rendered": pages}  # fmt: skip


def child_main(mode: str, database: Path) -> None:
    """Run one way of printing and print its figures as JSON, with its peak memory."""
    result = run_naive(database) if mode == "naive" else run_batch(database)
    # Not getrusage: its maximum starts from the size of the parent that forked us.
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    result["self_mib"] = int(status["VmHWM"].split()[0]) / 1024
    print(json.dumps(result))


def tree_memory_mib(root: int) -> tuple[float, float, dict[int, float]]:
    """Return the memory of a process and its descendants, from /proc: (RSS, PSS, RSS by pid).

    RSS counts memory shared between the processes (libraries) once per process; PSS
    shares it out, so its sum is what the tree really occupies.
    """
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, pending = set(), [root]
    while pending:
        pid = pending.pop()
        tree.add(pid)
        pending.extend(child for child, parent in parents.items() if parent == pid)
    rss = pss = 0
    by_pid: dict[int, float] = {}
    for pid in tree:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
                by_pid[pid] = int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss / 1024, pss / 1024, by_pid


def measure_apart(mode: str, database: Path) -> dict[str, Any]:
    """Run one way of printing in its own process, sampling its tree's memory meanwhile."""
    process = subprocess.Popen(  # noqa: S603  (our own script, fixed arguments)
        [sys.executable, __file__, "--child", mode, "--database", str(database)],
        stdout=subprocess.PIPE,
        text=True,
    )
    peak = {"rss": 0.0, "pss": 0.0}
    workers: dict[int, float] = {}

    def sample() -> None:
        while process.poll() is None:
            if Path("/proc").is_dir():
                rss, pss, by_pid = tree_memory_mib(process.pid)
                peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
                for pid, size in by_pid.items():
                    if pid != process.pid:
                        workers[pid] = max(workers.get(pid, 0.0), size)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    cpu_before = cpu_seconds_of_children()
    sampler.start()
    output, _ = process.communicate()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"the {mode} run failed with status {process.returncode}")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["tree_rss_mib"], result["tree_pss_mib"] = peak["rss"], peak["pss"]
    # Its processes' CPU time, workers included: what other work on the machine does not
    # change, unlike the time it takes.
    result["cpu_seconds"] = cpu_seconds_of_children() - cpu_before
    # The worker processes' peaks, sampled: the largest, and how many there were.
    result["children_mib"] = max(workers.values(), default=0.0)
    result["children"] = len(workers)
    return result


def cpu_seconds_of_children() -> float:
    """Return the CPU time of every process this one has waited for, theirs included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def verdict(value: float, goal: float) -> str:
    """Say whether a figure meets its goal."""
    return "goal met" if value <= goal else "goal NOT met"


def main() -> None:
    """Generate the data, measure everything side by side, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=850, help="people in the battalion")
    parser.add_argument("--runs", type=int, default=20, help="timings per single certificate")
    parser.add_argument("--child", choices=["batch", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.database)
        return

    with tempfile.TemporaryDirectory(prefix="blue-beret-bench-") as folder:
        database = Path(folder) / "certificates.db"
        started = time.perf_counter()
        build(database, args.people)
        print(f"Certificates: {args.people} people generated in "
              f"{time.perf_counter() - started:.1f} s (throwaway SQLite)")  # fmt: skip

        one = measure_one(database, args.runs)
        print("\nOne certificate, warm (median)")
        for name, value in one.items():
            print(f"  {name:<58} {value:8.1f} ms")

        naive = measure_apart("naive", database)
        # Nothing is stored yet: every record has changed since the last print.
        changed = measure_apart("batch", database)
        unchanged = measure_apart("batch", database)
        print(f"\n{args.people} training records into one PDF")
        rows = [
            ("batch path, every record changed", changed),
            ("batch path, nothing changed since the last print", unchanged),
            ("naive: one HTML document, one WeasyPrint call", naive),
        ]
        for name, result in rows:
            print(f"  {name:<50} {result['seconds']:7.1f} s  (CPU {result['cpu_seconds']:.1f} s)  "
                  f"{result['pages']} pages, {result['bytes'] / 1e6:.1f} MB, "
                  f"{result['rendered']} rendered")  # fmt: skip
            print(f"  {'':<50} peak: process {result['self_mib']:.0f} MiB, largest of "
                  f"{result['children']} workers {result['children_mib']:.0f} MiB (sampled); "
                  "whole tree, sampled: "
                  f"{result['tree_pss_mib']:.0f} MiB (PSS), {result['tree_rss_mib']:.0f} MiB "
                  "(RSS)")  # fmt: skip
        print(f"  (batch path: {changed['workers']} worker processes, chunks of "
              f"{min(printing.CHUNK_SIZE, args.people)}; naive: of which rendering "
              f"{naive['render_seconds']:.1f} s)")  # fmt: skip

    stored_ratio = one["download: stored certificate"] / one["render: module certificate"]
    changed_ratio = changed["seconds"] / naive["seconds"]
    unchanged_ratio = unchanged["seconds"] / naive["seconds"]
    changed_cpu = changed["cpu_seconds"] / naive["cpu_seconds"]
    print("\nAgainst the goals")
    lines = [
        ("stored certificate download / render", f"{stored_ratio:.3f}", ""),
        (f"850 unchanged / naive (goal <= {GOAL_UNCHANGED})", f"{unchanged_ratio:.3f}",
         verdict(unchanged_ratio, GOAL_UNCHANGED)),
        (f"850 changed / naive (goal <= {GOAL_CHANGED})", f"{changed_ratio:.2f}",
         verdict(changed_ratio, GOAL_CHANGED)),
        ("850 changed / naive, CPU time", f"{changed_cpu:.2f}", ""),
    ]  # fmt: skip
    for name, result in (("changed", changed), ("unchanged", unchanged)):
        largest = max(result["self_mib"], result["children_mib"])
        lines.append((f"batch, {name}, largest process (goal <= {GOAL_MIB} MiB)",
                      f"{largest:.0f} MiB", verdict(largest, GOAL_MIB)))  # fmt: skip
        lines.append((f"batch, {name}, whole tree, PSS (goal <= {GOAL_MIB} MiB)",
                      f"{result['tree_pss_mib']:.0f} MiB",
                      verdict(result["tree_pss_mib"], GOAL_MIB)))  # fmt: skip
    lines.append(("naive, whole tree, PSS", f"{naive['tree_pss_mib']:.0f} MiB", ""))
    for name, value, note in lines:
        print(f"  {name:<58} {value:>9}  {note}")


if __name__ == "__main__":
    main()
