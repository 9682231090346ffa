"""Every run of a periodic job is recorded in ``job_run`` (config.jobs), failed ones too; with the
database down the row is skipped and the loop goes on; ``sekap-trust jobs run`` and ``jobs
history`` report the outcomes honestly. Runs on SQLite and, with SEKAP_TRUST_TEST_DATABASE_URL,
on PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import peewee as pw
import pytest

from config import jobs
from config.cli import main
from config.jobs import Job
from config.runtime import Runtime
from config.settings import Settings
from config.wiring.enrollment import housekeeping_job
from core import db as core_db
from core import job_runs
from core.clock import FrozenClock
from core.errors import SekapError
from core.job_runs import JobResult
from hsm.software import SoftwareKeyStore

# What an exception message may carry (the tests' log check refuses real PESELs in log lines).
DETAIL = "detail-from-the-exception-message"
BIN = Path(sys.executable).parent


class _Boom(SekapError):
    pass


def _fails(runtime: Runtime) -> str:
    raise _Boom(f"{DETAIL} could not be processed")


@pytest.fixture
def runtime(settings: Settings, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore) -> Runtime:
    return Runtime(settings, clock, key_store)


@pytest.fixture
def test_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(jobs.JOBS, "test.ok", Job("test.ok", 60, lambda rt: JobResult("3 done", {"done": 3})))
    monkeypatch.setitem(jobs.JOBS, "test.text", Job("test.text", 60, lambda rt: "plain summary"))
    monkeypatch.setitem(jobs.JOBS, "test.fails", Job("test.fails", 60, _fails))
    yield


def _cli(runtime: Runtime, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out, runtime=runtime), out.getvalue()


def test_each_run_writes_a_row_failed_ones_with_the_error_class_only(
    runtime: Runtime, clock: FrozenClock, test_jobs: None, caplog: pytest.LogCaptureFixture
) -> None:
    results = jobs.run_once(runtime, ["test.ok", "test.text", "test.fails"])
    assert [(n, r.outcome, r.recorded) for n, r in results.items()] == [
        ("test.ok", "ok", True),
        ("test.text", "ok", True),
        ("test.fails", "failed", True),
    ]
    runs = {r.job: r for r in job_runs.history()}
    assert runs["test.ok"].counts == {"done": 3} and runs["test.ok"].summary == "3 done"
    assert runs["test.text"].summary == "plain summary" and runs["test.text"].counts == {}
    failed = runs["test.fails"]
    assert (
        failed.outcome == "failed"
        and failed.error_class == "_Boom"
        and failed.summary == "raised _Boom; the log has the details"
    )
    assert failed.started_at == clock.now()
    # The exception's message may carry personal data: never in the row.
    assert DETAIL not in json.dumps([r.__dict__ for r in runs.values()], default=str)


def test_with_the_database_down_the_row_is_skipped_and_the_jobs_go_on(
    runtime: Runtime, db: pw.Database, test_jobs: None, caplog: pytest.LogCaptureFixture
) -> None:
    # A PostgreSQL server that is down: nothing listens on this port (ours, 18300-18399).
    core_db.bind(core_db.open_database("postgresql://postgres@127.0.0.1:18399/down"))
    try:
        results = jobs.run_once(runtime, ["test.ok", "test.fails"])
    finally:
        core_db.bind(db)
    # Each run's connection cannot be opened: neither job ran, neither row could be written.
    assert {r.outcome for r in results.values()} == {"skipped-db-unavailable"}
    assert not any(r.recorded for r in results.values())
    assert "run not recorded, the database is unavailable" in caplog.text
    assert job_runs.history() == []
    assert jobs.run_once(runtime, ["test.ok"])["test.ok"].recorded  # and once it is back


def test_jobs_run_prints_each_outcome_and_fails_when_one_failed(runtime: Runtime, test_jobs: None) -> None:
    code, out = _cli(runtime, "jobs", "run", "test.ok")
    assert code == 0 and out.startswith("test.ok: ok (") and out.rstrip().endswith("s): 3 done"), out
    code, out = _cli(runtime, "jobs", "run", "test.ok", "test.fails")
    assert code == 1 and "test.fails: failed (" in out and "s): raised _Boom; the log has the details" in out, out


def test_jobs_history_lists_filters_and_limits(runtime: Runtime, clock: FrozenClock, test_jobs: None) -> None:
    for _ in range(3):
        jobs.run_once(runtime, ["test.ok", "test.fails"])
        clock.advance(seconds=60)
    code, out = _cli(runtime, "jobs", "history")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 6 and "test.fails" in lines[0] and "test.ok" in lines[1]
    code, out = _cli(runtime, "jobs", "history", "--failed", "--limit", "2")
    assert code == 0 and len(out.splitlines()) == 2 and "test.ok" not in out
    code, out = _cli(runtime, "jobs", "history", "--job", "test.ok", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 3 and {r["outcome"] for r in rows} == {"ok"}
    assert rows[0]["counts"] == {"done": 3} and rows[0]["started_at"].endswith("+00:00")
    assert _cli(runtime, "jobs", "history", "--job", "no.such.job") == (2, "unknown job: no.such.job\n")


def test_jobs_history_refuses_a_bad_limit(runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _cli(runtime, "jobs", "history", "--limit", "0")
    assert exit_info.value.code == 2 and "between 1 and 1000" in capsys.readouterr().err


def test_housekeeping_purges_runs_past_the_retention(runtime: Runtime, clock: FrozenClock) -> None:
    start = clock.now()
    job_runs.record("old", start, start, job_runs.OK, JobResult("x"))
    clock.advance(days=runtime.settings.jobs.run_retention_days, seconds=1)
    result = housekeeping_job(runtime)
    assert result.counts["job_runs_removed"] == 1 and result.summary.endswith("1 old job run(s) removed")
    assert [r.job for r in job_runs.history()] == []


def test_the_loop_survives_a_failing_job_and_records_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import threading

    stop = threading.Event()

    def fails_then_stops(rt: Runtime) -> str:
        stop.set()
        raise _Boom("x")

    monkeypatch.setattr(jobs, "JOBS", {"test.fails": Job("test.fails", 60, fails_then_stops)})
    with caplog.at_level(logging.ERROR):
        jobs.loop(runtime, stop, tick_seconds=0.01)
    [run] = job_runs.history()
    assert run.outcome == "failed" and run.job == "test.fails"
    assert timedelta(0) <= run.finished_at - run.started_at < timedelta(seconds=5)


def test_readyz_and_metrics_report_stale_jobs_without_failing_the_host(
    settings: Settings, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore
) -> None:
    """A job with no successful run for two intervals is named in /readyz; the host stays ready
    (a stuck loop or SMTP outage is not this host's inability to serve)."""
    from tests.conftest import make_client

    client = make_client(settings, ["ca"], db, clock, key_store)
    assert client.simulate_get("/readyz").json["stale_jobs"] == []  # never run: not stale
    start = clock.now()
    job_runs.record("ocsp.presign", start, start, job_runs.OK, JobResult("signed 0 response(s)"))
    clock.advance(seconds=120)
    assert client.simulate_get("/readyz").json["stale_jobs"] == []
    clock.advance(seconds=1)
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 200 and ready.json["stale_jobs"] == ["ocsp.presign"]
    metrics = client.simulate_get("/metrics").text
    assert 'sekap_job_stale{job="ocsp.presign"} 1.0' in metrics
    assert 'sekap_job_stale{job="ca.holds.expire"} 0.0' in metrics


@pytest.mark.parametrize("days", [0, 3651])
def test_the_retention_setting_is_checked_at_start_up(days: int) -> None:
    from config.settings import load_settings
    from core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"jobs\.run_retention_days"):
        load_settings(env={"SEKAP_TRUST__JOBS__RUN_RETENTION_DAYS": str(days)})
    assert load_settings(env={"SEKAP_TRUST__JOBS__RUN_RETENTION_DAYS": "90"}).jobs.run_retention_days == 90


@pytest.mark.slow
def test_a_real_process_records_its_runs_with_its_host_and_pid(db_url: str, db: pw.Database, tmp_path: Path) -> None:
    """``sekap-trust jobs run`` in its own process: each run is a row naming that process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEKAP_TRUST")}
    env.update(
        {
            "SEKAP_TRUST__DATABASE__URL": db_url,
            "SEKAP_TRUST__KEYSTORE__PIN_FILE": "",
            "SEKAP_TRUST__AUDIT__CHAIN_KEY_FILE": "",
        }
    )
    command = [str(BIN / "sekap-trust"), "jobs", "run", "ca.holds.expire", "approvals.expire"]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "ca.holds.expire: ok (" in out and "approvals.expire: ok (" in out, out
    host = socket.gethostname()[:100]
    assert {(r.job, r.outcome, r.host, r.pid) for r in job_runs.history()} == {
        ("ca.holds.expire", "ok", host, process.pid),
        ("approvals.expire", "ok", host, process.pid),
    }
