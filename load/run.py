"""`make load`: simulated peacekeepers against gunicorn and PostgreSQL, then a check.

1. (Re)creates the PostgreSQL database LOAD_DATABASE_URL names, migrates it, loads the
   modules and seeds LOAD_USERS peacekeepers (load/seed.py).
2. Starts gunicorn (LOAD_WORKERS workers) on a free port, as `APP_CONFIG=development`,
   and, as production runs it, LOAD_RENDER_WORKERS `flask worker` processes on the Redis
   database LOAD_REDIS_URL names, which render the certificates and records each pass
   makes due. LOAD_REDIS_URL=none renders them on threads of the web workers instead
   (the setting without Redis), to compare the two.
3. Runs locust headless (load/locustfile.py) with LOAD_USERS users for LOAD_DURATION.
4. Checks that every attempt the peacekeepers submitted is in the database, submitted,
   graded as expected, and, when passed, has its completion and certificate.
5. Prints requests, failures and the p50/p95/p99 response times, overall and per page,
   and where the machine's CPU went during the run (gunicorn, the render workers, locust,
   PostgreSQL, other work), which says what limits a run.

Exits with status 1 on any failed request or any missing or wrong attempt. The files of
the run (locust's CSV statistics, the attempt log, the server's log) are kept in
LOAD_OUTPUT (default instance/load/).
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
import redis
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SETTINGS = {
    "LOAD_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/blue_beret_load",
    "LOAD_DURATION": "5m",
    "LOAD_USERS": "50",
    "LOAD_SPAWN_RATE": "10",
    "LOAD_WORKERS": "4",
    "LOAD_REDIS_URL": "redis://127.0.0.1:6379/14",
    "LOAD_RENDER_WORKERS": "1",
    "LOAD_OUTPUT": str(ROOT / "instance" / "load"),
}
GOAL_P50_MS = 100
GOAL_P99_MS = 1000


def setting(name: str) -> str:
    return os.environ.get(name) or SETTINGS[name]


def say(message: str) -> None:
    print(f"[load] {message}", flush=True)


def connect(url: str, database: str | None = None) -> psycopg.Connection[Any]:
    """Connect with psycopg to the database of an SQLAlchemy URL (or another one)."""
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        dbname=database or parsed.database,
        autocommit=True,
    )


def recreate_database(url: str) -> None:
    name = make_url(url).database
    if not name:
        raise SystemExit("LOAD_DATABASE_URL must name a database")
    with connect(url, "postgres") as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def run(command: list[str], env: dict[str, str]) -> None:
    say(" ".join(command))
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603  (our own tools)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    env: dict[str, str],
    port: int,
    log: Path,
    workers: str,
    application: str = "app:create_app()",
    probe: str = "/login",
    cwd: Path = ROOT,
) -> subprocess.Popen[bytes]:
    """Start gunicorn (sync workers) on a port, in `cwd`; return once `probe` answers."""
    command = [
        str(BIN / "gunicorn"),
        *("--workers", workers, "--worker-class", "sync", "--timeout", "120"),
        *("--bind", f"127.0.0.1:{port}", application),
    ]
    say(" ".join(command))
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603  (our own virtualenv's gunicorn)
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=10):
                return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer within a minute; see {log}")


def start_render_workers(
    env: dict[str, str], count: int, output: Path
) -> list[subprocess.Popen[bytes]]:
    """Start `flask worker` processes on the Redis queue REDIS_URL names (emptied first)."""
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    workers = []
    for number in range(count):
        with (output / f"worker-{number}.log").open("wb") as log:
            workers.append(
                subprocess.Popen(  # noqa: S603  (our own virtualenv's flask)
                    [str(BIN / "flask"), "--app", "app", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    say(f"{count} render worker(s) on {env['REDIS_URL']}")
    return workers


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def process_seconds(pid: int, reaped: bool = False) -> float:
    """Return the CPU time (user and system) a process has used so far; 0 once it is gone.

    `reaped`: with that of its children that have ended (a worker's forked jobs).
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def children(parent: int) -> list[int]:
    """Return the processes whose parent is `parent`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def machine_seconds() -> tuple[float, float]:
    """Return the CPU time all cores have been busy, and their time in all, so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    busy = user + nice + system + irq + softirq + steal
    return busy / os.sysconf("SC_CLK_TCK"), (busy + idle + iowait) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(
    server: subprocess.Popen[bytes], url: str, workers: list[subprocess.Popen[bytes]]
) -> dict[str, float]:
    """Return the CPU time used so far by gunicorn, the render workers, the database's
    backends and the machine."""
    with connect(url) as connection:
        backends = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    busy, total = machine_seconds()
    snapshot = {f"pg:{pid}": process_seconds(pid) for (pid,) in backends}
    snapshot["gunicorn"] = sum(map(process_seconds, [server.pid, *children(server.pid)]))
    snapshot["workers"] = sum(
        process_seconds(worker.pid, reaped=True) + sum(map(process_seconds, children(worker.pid)))
        for worker in workers
    )
    snapshot["locust"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    snapshot["locust"] += resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime
    return {**snapshot, "busy": busy, "total": total}


def report_cpu(before: dict[str, float], after: dict[str, float]) -> None:
    """Print where the machine's CPU time went between two snapshots."""

    def used(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    total, busy = used("total"), used("busy")
    database = sum(used(key) for key in after if key.startswith("pg:"))
    parts = {
        "gunicorn": used("gunicorn"),
        "render workers": used("workers"),
        "locust": used("locust"),
        "PostgreSQL": database,
    }
    shown = ", ".join(f"{name} {seconds:,.0f} s" for name, seconds in parts.items())
    print(
        f"CPU during the run ({os.cpu_count()} cores, {total:,.0f} core-seconds): busy "
        f"{busy:,.0f} s ({busy / total:.0%}): {shown}, other work "
        f"{busy - sum(parts.values()):,.0f} s"
    )


class AttemptCheck(NamedTuple):
    """The attempts the peacekeepers submitted, as found in the database."""

    submitted: int
    found: int
    # Sent when the run stopped, the answer never read: stored or not, but if stored, right.
    in_flight: int
    problems: list[str]


def check_attempts(url: str, log: Path) -> AttemptCheck:
    """Check that every attempt the peacekeepers submitted is stored, graded as answered."""
    lines = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    submitted = [entry for entry in lines if not entry.get("sending")]
    expected = {entry["attempt"]: entry for entry in submitted}
    problems = []
    if len(expected) != len(submitted):
        problems.append(f"{len(submitted) - len(expected)} attempts were submitted twice")
    in_flight = {
        entry["attempt"]: entry
        for entry in lines
        if entry.get("sending") and entry["attempt"] not in expected
    }
    with connect(url) as connection:
        rows = connection.execute(
            """
            SELECT a.id, u.username, a.submitted_at IS NOT NULL, a.passed,
                   c.id IS NOT NULL, cert.id IS NOT NULL
            FROM quiz_attempt a
            JOIN "user" u ON u.id = a.user_id
            LEFT JOIN completion c ON c.attempt_id = a.id
            LEFT JOIN certificate cert ON cert.completion_id = c.id
            WHERE a.id = ANY(%s)
            """,
            [list(expected) + list(in_flight)],
        ).fetchall()
        stored = connection.execute(
            "SELECT count(*) FROM quiz_attempt WHERE submitted_at IS NOT NULL"
        ).fetchone()
    found = {row[0]: row for row in rows}
    # An attempt in flight at the end counts if the server stored it, and must be right.
    expected.update(
        (key, entry) for key, entry in in_flight.items() if key in found and found[key][2]
    )
    for attempt_id, entry in expected.items():
        row = found.get(attempt_id)
        if row is None:
            problems.append(f"attempt {attempt_id} of {entry['user']} is not in the database")
            continue
        _id, username, is_submitted, passed, completed, certified = row
        if username != entry["user"]:
            problems.append(f"attempt {attempt_id} belongs to {username}, not {entry['user']}")
        if not is_submitted:
            problems.append(f"attempt {attempt_id} of {username} is not marked submitted")
        if passed is not entry["passed"]:
            problems.append(f"attempt {attempt_id} of {username}: passed is {passed}")
        if entry["passed"] and not (completed and certified):
            problems.append(f"attempt {attempt_id} of {username} passed without a certificate")
    if stored and stored[0] != len(expected):
        problems.append(f"{stored[0]} submitted attempts stored, {len(expected)} submitted")
    present = sum(1 for key in expected if key in found and found[key][2])
    return AttemptCheck(len(expected), present, len(in_flight), problems)


def percentile(times: dict[int, int], share: float) -> int:
    """Return the response time (ms) within which `share` of the requests answered."""
    total = sum(times.values())
    seen = 0
    for milliseconds in sorted(times):
        seen += times[milliseconds]
        if seen >= share * total:
            return milliseconds
    return 0


def report(stats: Path) -> tuple[int, int]:
    """Print requests, failures and percentiles per request and overall; return the totals."""
    entries = json.loads(stats.read_text())
    overall: dict[int, int] = {}
    lines = []
    for entry in sorted(entries, key=lambda e: (e["name"], e["method"])):
        times = {int(ms): count for ms, count in entry["response_times"].items()}
        for ms, count in times.items():
            overall[ms] = overall.get(ms, 0) + count
        name = f"{entry['method']} {entry['name']}"
        lines.append((name, entry["num_requests"], entry["num_failures"], times))
    requests = sum(line[1] for line in lines)
    failures = sum(line[2] for line in lines)
    header = f"{'request':<46}{'count':>8}{'failed':>8}{'p50':>8}{'p95':>8}{'p99':>8}  (ms)"
    print(header)
    print("-" * len(header))
    for name, count, failed, times in [*lines, ("all requests", requests, failures, overall)]:
        p50, p95, p99 = (percentile(times, share) for share in (0.50, 0.95, 0.99))
        print(f"{name[:45]:<46}{count:>8}{failed:>8}{p50:>8}{p95:>8}{p99:>8}")
    met = "met" if p50 <= GOAL_P50_MS and p99 <= GOAL_P99_MS else "not met"
    print(f"Goal over all requests: p50 <= {GOAL_P50_MS} ms and p99 <= {GOAL_P99_MS:,} ms: {met}")
    return requests, failures


def main() -> int:
    url = setting("LOAD_DATABASE_URL")
    output = Path(setting("LOAD_OUTPUT"))
    output.mkdir(parents=True, exist_ok=True)
    for old in output.glob("*"):
        old.unlink()
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "APP_CONFIG": "development",
        "DATABASE_URL": url,
        "DEMO_MODE": "0",
        "SECRET_KEY": secrets.token_hex(32),
        "PUBLIC_BASE_URL": "https://training.example.org",
        # Every simulated peacekeeper signs in from this one machine's address, and each
        # downloads far more PDFs than a person would: the limits would refuse the load.
        "LOGIN_LIMIT_PER_ADDRESS": "10000 per minute",
        "PDF_LIMIT_PER_USER": "10000 per minute",
        "LOAD_PASSWORD": password,
        "LOAD_ACCOUNTS": str(output / "accounts.json"),
        "LOAD_ATTEMPT_LOG": str(output / "attempts.jsonl"),
    }
    env.pop("MODULES_DIR", None)
    redis_url = setting("LOAD_REDIS_URL")
    if redis_url.lower() != "none":
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)

    say(f"fresh database {make_url(url).database}")
    recreate_database(url)
    flask = [str(BIN / "flask"), "--app", "app"]
    run([*flask, "db", "upgrade"], env)
    run([*flask, "modules", "sync"], env)
    run([str(BIN / "python"), "load/seed.py", "--users", setting("LOAD_USERS"),
         "--output", env["LOAD_ACCOUNTS"]], env)  # fmt: skip

    port = free_port()
    server = start_server(env, port, output / "gunicorn.log", setting("LOAD_WORKERS"))
    workers = (
        start_render_workers(env, int(setting("LOAD_RENDER_WORKERS")), output)
        if "REDIS_URL" in env
        else []
    )
    try:
        before = cpu_snapshot(server, url, workers)
        locust = subprocess.run(  # noqa: S603  (our own virtualenv's locust)
            [
                str(BIN / "locust"),
                *("-f", "load/locustfile.py", "--headless", "--only-summary"),
                *("--users", setting("LOAD_USERS"), "--spawn-rate", setting("LOAD_SPAWN_RATE")),
                *("--run-time", setting("LOAD_DURATION"), "--stop-timeout", "30"),
                *("--host", f"http://127.0.0.1:{port}", "--csv", str(output / "locust")),
                *("--json-file", str(output / "locust")),
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
        after = cpu_snapshot(server, url, workers)
    finally:
        stop_server(server)
        for worker in workers:
            stop_server(worker)

    print()
    requests, failures = report(output / "locust.json")
    check = check_attempts(url, output / "attempts.jsonl")
    print()
    print(
        f"Attempts submitted: {check.submitted}; found in the database: {check.found}; "
        f"problems: {len(check.problems)} (in flight when the run stopped: {check.in_flight})"
    )
    for problem in check.problems[:20]:
        print(f"  {problem}")
    report_cpu(before, after)
    print(f"Requests: {requests}, failed: {failures}. Files of this run: {output}")
    return 1 if failures or check.problems or locust.returncode or not check.submitted else 0


if __name__ == "__main__":
    sys.exit(main())
