"""The job-run records (``job_run``, core.job_runs): stored, listed, purged, and stale detection.
Runs on SQLite and, with SEKAP_TRUST_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import peewee as pw
import pytest

from core import job_runs
from core.clock import FrozenClock
from core.job_runs import JobResult


def _run(clock: FrozenClock, job: str, outcome: str = job_runs.OK, seconds: int = 2) -> job_runs.JobRunView:
    started = clock.now()
    return job_runs.record(job, started, started + timedelta(seconds=seconds), outcome, JobResult(f"{job} done"))


def test_a_run_is_stored_with_host_pid_times_and_counts(db: pw.Database, clock: FrozenClock) -> None:
    started = clock.now()
    view = job_runs.record(
        "ca.holds.expire", started, started + timedelta(seconds=1.5), job_runs.OK, JobResult("2 held", {"revoked": 2})
    )
    [stored] = job_runs.history()
    assert stored == view
    assert stored.host == socket.gethostname()[:100] and stored.pid == os.getpid()
    assert stored.started_at == started and stored.started_at.tzinfo is not None
    assert stored.seconds == 1.5 and stored.counts == {"revoked": 2} and stored.error_class is None


def test_history_is_newest_first_and_filters(db: pw.Database, clock: FrozenClock) -> None:
    for outcome in (job_runs.OK, job_runs.FAILED, job_runs.OK):
        _run(clock, "a", outcome)
        clock.advance(seconds=10)
    _run(clock, "b", job_runs.SKIPPED_DB_UNAVAILABLE)
    assert [r.job for r in job_runs.history()] == ["b", "a", "a", "a"]
    assert [r.outcome for r in job_runs.history("a")] == ["ok", "failed", "ok"]
    assert [(r.job, r.outcome) for r in job_runs.history(unsuccessful_only=True)] == [
        ("b", "skipped-db-unavailable"),
        ("a", "failed"),
    ]
    assert len(job_runs.history(limit=2)) == 2


def test_unknown_outcomes_and_multi_line_summaries_are_refused(db: pw.Database, clock: FrozenClock) -> None:
    with pytest.raises(ValueError, match="outcome"):
        job_runs.record("a", clock.now(), clock.now(), "done", JobResult("x"))
    with pytest.raises(ValueError, match="one line"):
        JobResult("first\nsecond")
    with pytest.raises(ValueError, match="non-negative"):
        JobResult("x", {"sent": -1})


def test_purge_removes_only_runs_older_than_the_cut(db: pw.Database, clock: FrozenClock) -> None:
    _run(clock, "old")
    clock.advance(days=31)
    _run(clock, "new")
    assert job_runs.purge(clock.now() - timedelta(days=30)) == 1
    assert [r.job for r in job_runs.history()] == ["new"]


def test_stale_when_the_last_success_is_older_than_two_intervals(db: pw.Database, clock: FrozenClock) -> None:
    """Two intervals without a successful run: the work is overdue (a failed run does not count)."""
    _run(clock, "crl", seconds=0)
    schedule = [("crl", 300), ("never", 60)]
    clock.advance(seconds=600)
    _run(clock, "crl", job_runs.FAILED, seconds=0)
    crl, never = job_runs.states(schedule, clock.now())
    assert not crl.stale and crl.last_run is not None and crl.last_run.outcome == "failed"
    assert crl.last_success_at == clock.now() - timedelta(seconds=600)
    clock.advance(seconds=1)
    assert job_runs.stale_jobs(schedule, clock.now()) == ["crl"]
    assert never.last_run is None and not never.stale  # never run: shown as such, not stale


def test_a_job_that_never_succeeded_is_stale_two_intervals_after_its_first_try(
    db: pw.Database, clock: FrozenClock
) -> None:
    _run(clock, "mail", job_runs.FAILED, seconds=0)
    clock.advance(seconds=60)
    assert job_runs.stale_jobs([("mail", 30)], clock.now()) == []
    clock.advance(seconds=1)
    assert job_runs.stale_jobs([("mail", 30)], clock.now()) == ["mail"]
