"""What recording and reading job runs costs (issue 14 item 3): a ``job_run`` table holding
``--days`` days of one host's runs at the real schedule (config.job_schedule: about 12,700 rows
a day), then the median wall time of writing one run (``core.job_runs.record``, its own
transaction), of the per-job state with staleness (``/admin/zadania`` and ``/readyz``: two indexed
look-ups per job), of the 50 newest runs, and of the housekeeping purge of one day.

    .venv/bin/python -m bench.job_runs_bench [--database-url URL] [--days 30]

Without ``--database-url`` it uses a fresh SQLite file (WAL, synchronous=FULL, as in production).
A PostgreSQL URL must name a scratch database: its schema ``public`` is dropped and rebuilt.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee as pw

from config.job_schedule import SCHEDULE
from config.migrations import all_migrations
from core import db as core_db
from core import job_runs
from core.job_runs import JobResult, JobRun
from core.migrations import upgrade

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _rows(days: int) -> list[dict[str, Any]]:
    """Every run one host's loop makes in ``days`` days, newest at NOW."""
    rows = []
    start = NOW - timedelta(days=days)
    for name, interval in SCHEDULE:
        at = start
        while at < NOW:
            rows.append(
                {
                    "job": name,
                    "host": "app-1",
                    "pid": 4242,
                    "started_at": at,
                    "finished_at": at + timedelta(milliseconds=20),
                    "outcome": job_runs.OK,
                    "summary": "signed 0 response(s) (citizens=0, root=0)",
                    "error_class": None,
                    "counts": {"signed": 0},
                }
            )
            at += timedelta(seconds=interval)
    return rows


def _median_ms(action: Callable[[], object], times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _open(url: str | None) -> pw.Database:
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='job-runs-bench-')}/bench.db"
    database = core_db.open_database(url)
    core_db.bind(database)
    database.connect()
    if isinstance(database, pw.PostgresqlDatabase):
        database.execute_sql("DROP SCHEMA IF EXISTS public CASCADE")
        database.execute_sql("CREATE SCHEMA public")
    upgrade(all_migrations())
    return database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    database = _open(args.database_url)
    rows = _rows(args.days)
    started = time.perf_counter()
    with core_db.atomic():
        for i in range(0, len(rows), 1000):
            JobRun.insert_many(rows[i : i + 1000]).execute()
    fill = time.perf_counter() - started
    if isinstance(database, pw.PostgresqlDatabase):
        database.execute_sql("ANALYZE job_run")
    else:
        database.execute_sql("ANALYZE")
    result = JobResult("0 hold(s) turned into revocations", {"revoked": 0})
    record = _median_ms(lambda: job_runs.record("ca.holds.expire", NOW, NOW, job_runs.OK, result), 200)
    states = _median_ms(lambda: job_runs.states(SCHEDULE, NOW), 50)
    history = _median_ms(lambda: job_runs.history(limit=50), 50)
    cut = NOW - timedelta(days=args.days - 1)
    started = time.perf_counter()
    purged = job_runs.purge(cut)
    purge = (time.perf_counter() - started) * 1000
    kind = type(database).__name__
    print(f"| {kind} | {len(rows):,} rows ({args.days} days) filled in {fill:.1f} s |")
    print(f"| record one run | {record:.2f} ms |")
    print(f"| states of {len(SCHEDULE)} jobs (page, /readyz) | {states:.2f} ms |")
    print(f"| 50 newest runs | {history:.2f} ms |")
    print(f"| purge one day ({purged:,} rows) | {purge:.0f} ms |")
    database.close()


if __name__ == "__main__":
    main()
