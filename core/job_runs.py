"""Job runs: one row per run of a periodic job, on whichever host ran it.

``config.jobs`` writes a row after every run, failed ones included; the administrator's page
(``/admin/zadania``), ``sekap-trust jobs history`` and ``/readyz`` read them through the query
functions here. A row never holds an exception message (it could carry personal data): a failed
run keeps only the exception's class name. Rows older than the retention are purged by the
housekeeping job.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import peewee as pw

from core.db import BaseModel, JSONField, UTCDateTimeField, atomic

OK = "ok"
FAILED = "failed"
SKIPPED_DB_UNAVAILABLE = "skipped-db-unavailable"
OUTCOMES = (OK, FAILED, SKIPPED_DB_UNAVAILABLE)
SUMMARY_MAX = 500


@dataclass(frozen=True)
class JobResult:
    """What a job reports: a one-line summary for people and counts for machines."""

    summary: str
    counts: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "\n" in self.summary:
            raise ValueError("a job summary is one line")
        if any(not isinstance(v, int) or v < 0 for v in self.counts.values()):
            raise ValueError("job counts are non-negative integers")


class JobRun(BaseModel):
    job = pw.CharField(max_length=80)
    host = pw.CharField(max_length=100)
    pid = pw.IntegerField()
    started_at = UTCDateTimeField()
    finished_at = UTCDateTimeField()
    outcome = pw.CharField(max_length=30)
    summary = pw.CharField(max_length=SUMMARY_MAX)
    error_class = pw.CharField(max_length=100, null=True)
    counts = JSONField(default=dict)

    class Meta:
        table_name = "job_run"
        indexes = (
            (("job", "started_at"), False),  # a job's last run, its oldest
            (("job", "outcome", "started_at"), False),  # a job's last successful run
            (("started_at",), False),  # the latest runs of every job; the purge
        )


@dataclass(frozen=True)
class JobRunView:
    id: int
    job: str
    host: str
    pid: int
    started_at: datetime
    finished_at: datetime
    outcome: str
    summary: str
    error_class: str | None
    counts: Mapping[str, int]

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @classmethod
    def of(cls, row: JobRun) -> JobRunView:
        return cls(
            id=row.id,
            job=row.job,
            host=row.host,
            pid=row.pid,
            started_at=row.started_at,
            finished_at=row.finished_at,
            outcome=row.outcome,
            summary=row.summary,
            error_class=row.error_class,
            counts=dict(row.counts or {}),
        )


def record(
    job: str,
    started_at: datetime,
    finished_at: datetime,
    outcome: str,
    result: JobResult,
    error_class: str | None = None,
) -> JobRunView:
    """Store one run of ``job`` by this process (host name and pid), in a transaction of its own."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown job outcome {outcome!r}")
    with atomic():
        row = JobRun.create(
            job=job[:80],
            host=socket.gethostname()[:100],
            pid=os.getpid(),
            started_at=started_at,
            finished_at=finished_at,
            outcome=outcome,
            summary=result.summary[:SUMMARY_MAX],
            error_class=error_class[:100] if error_class else None,
            counts=dict(result.counts),
        )
    return JobRunView.of(row)


def history(job: str | None = None, limit: int = 50, unsuccessful_only: bool = False) -> list[JobRunView]:
    """The latest runs, newest first: of one job or all, optionally only those that did not succeed."""
    query = JobRun.select()
    if job is not None:
        query = query.where(JobRun.job == job)
    if unsuccessful_only:
        query = query.where(JobRun.outcome != OK)
    rows = query.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(max(0, limit))
    return [JobRunView.of(r) for r in rows]


def purge(before: datetime) -> int:
    """Delete the runs started before ``before``; the number deleted."""
    with atomic():
        deleted: int = JobRun.delete().where(JobRun.started_at < before).execute()
    return deleted


@dataclass(frozen=True)
class JobState:
    """A job as the schedule and its recorded runs show it."""

    name: str
    interval_seconds: int
    last_run: JobRunView | None
    last_success_at: datetime | None
    stale: bool


def is_stale(
    interval_seconds: int, last_success_at: datetime | None, first_run_at: datetime | None, now: datetime
) -> bool:
    """Whether a job's work is overdue: its last successful run ended more than two intervals ago,
    or it has been tried for longer than that without ever succeeding. A job never run at all
    is not stale here (the page shows it as never run)."""
    limit = timedelta(seconds=2 * interval_seconds)
    if last_success_at is not None:
        return now - last_success_at > limit
    return first_run_at is not None and now - first_run_at > limit


def states(schedule: Sequence[tuple[str, int]], now: datetime) -> list[JobState]:
    """Each scheduled job (name, interval) with its last run and staleness: a few indexed look-ups
    per job, whatever the number of rows kept."""
    return [_state(name, interval, now) for name, interval in schedule]


def _state(name: str, interval_seconds: int, now: datetime) -> JobState:
    # started_at alone: an (job, started_at) index answers it without a sort (measured on PostgreSQL:
    # an id tie-breaker added an incremental sort and a slower plan to every look-up).
    newest = JobRun.select().where(JobRun.job == name).order_by(JobRun.started_at.desc())
    last = newest.first()
    success = newest.where(JobRun.outcome == OK).first() if last is not None else None
    first_run_at = None
    if last is not None and success is None:
        first_run_at = _first_run_at(name)
    last_success_at = success.finished_at if success is not None else None
    return JobState(
        name=name,
        interval_seconds=interval_seconds,
        last_run=JobRunView.of(last) if last is not None else None,
        last_success_at=last_success_at,
        stale=is_stale(interval_seconds, last_success_at, first_run_at, now),
    )


def _first_run_at(name: str) -> datetime | None:
    row: Any = JobRun.select(JobRun.started_at).where(JobRun.job == name).order_by(JobRun.started_at).first()
    return row.started_at if row is not None else None


def stale_jobs(schedule: Sequence[tuple[str, int]], now: datetime) -> list[str]:
    """The names of the stale jobs (for ``/readyz``)."""
    return [s.name for s in states(schedule, now) if s.stale]
