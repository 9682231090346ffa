"""The jobs loop beside the workers (issue 15 item 11: Ctrl-C stops ``make run`` within 5 s)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from config import jobs, metrics, system_audit
from config.runtime import Runtime
from core.clock import FrozenClock


def test_a_stop_asked_during_the_first_round_waits_for_one_job_not_all(
    monkeypatch: pytest.MonkeyPatch, clock: FrozenClock
) -> None:
    """At start every job is due at once; a SIGTERM (stop) while the first runs must end the loop
    after that job, not after the whole round (which under load outlasted the 5 s Ctrl-C budget)."""
    stop = threading.Event()
    ran: list[str] = []

    def run(job: jobs.Job, runtime: Runtime) -> str:
        ran.append(job.name)
        stop.set()  # the stop arrives while the first job runs
        return "done"

    fake = {name: jobs.Job(name, 60, lambda rt: "unused") for name in ("first", "second", "third")}
    monkeypatch.setattr(jobs, "JOBS", fake)
    monkeypatch.setattr(jobs, "_run", run)
    monkeypatch.setattr(system_audit, "install", lambda clock: None)
    monkeypatch.setattr(metrics, "install", lambda: None)
    runtime = SimpleNamespace(clock=clock)
    jobs.loop(runtime, stop, tick_seconds=0.01)  # type: ignore[arg-type]
    assert ran == ["first"]
