"""The jobs loop through a PostgreSQL outage (a TCP proxy stopped and started again): runs go on
being attempted, the rows that cannot be written are logged instead, the loop never stops, and
runs are recorded again once the database is back, without a restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import peewee as pw
import pytest

from config import jobs
from config.jobs import Job
from config.runtime import Runtime
from config.settings import Settings
from core import db as core_db
from core import job_runs
from core.clock import FrozenClock
from core.job_runs import JobResult
from hsm.software import SoftwareKeyStore
from tests.config.tcp_proxy import TCPProxy
from tests.config.test_outage import proxied_url  # noqa: F401 - the fixture: PostgreSQL behind a TCP proxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _counts_runs(runtime: Runtime) -> JobResult:
    """A job that needs the database: it counts the runs recorded so far."""
    return JobResult("counted", {"runs": len(job_runs.history(limit=1000))})


def _wait(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_loop_survives_an_outage_and_records_again_afterwards(
    settings: Settings,
    db: pw.Database,
    clock: FrozenClock,
    key_store: SoftwareKeyStore,
    proxied_url: tuple[TCPProxy, str],  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy, proxied_database_url = proxied_url
    proxied = core_db.open_database(proxied_database_url)
    monkeypatch.setattr(jobs, "JOBS", {"test.counts": Job("test.counts", 0, _counts_runs)})

    def recorded_ok() -> int:
        with core_db.connection():
            return sum(1 for r in job_runs.history(limit=1000) if r.outcome == "ok")

    core_db.bind(proxied)
    stop = threading.Event()
    loop = threading.Thread(target=jobs.loop, args=(Runtime(settings, clock, key_store), stop, 0.05), daemon=True)
    loop.start()
    try:
        _wait(lambda: recorded_ok() >= 2)
        proxy.stop()
        time.sleep(1.0)  # runs attempted and failing while the database is away
        assert loop.is_alive()
        proxy.start()
        before = recorded_ok()
        _wait(lambda: recorded_ok() >= before + 2)
    finally:
        stop.set()
        loop.join(timeout=10)
        core_db.bind(db)
    assert not loop.is_alive()
    assert "run not recorded, the database is unavailable" in caplog.text
