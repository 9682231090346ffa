"""``/admin/zadania`` in Debian's chromium (Playwright): per job its interval, last run in Polish
time, outcome, duration, summary and host, a stale mark once the last successful run is older
than two intervals (injected clock), and the latest runs; axe-core's WCAG 2.1 AA rules find
nothing."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from config import jobs
from config.runtime import Runtime
from core import job_runs
from core.job_runs import JobResult
from tests.web.conftest import ADMIN_PASSWORD, check_page, log_in
from web.templating import local_time

pytestmark = [pytest.mark.slow, pytest.mark.interop]

RUN = ["ca.holds.expire", "ca.crl.publish_due", "ca.ocsp_signers.renew", "ocsp.presign", "audit.seal"]


def _row(page: Page, job: str):  # type: ignore[no-untyped-def]
    return page.locator(f'#zadania tr[data-job="{job}"]')


def test_job_runs_last_outcome_and_stale_mark(
    page: Page, live_server, admin_officer: str, key_store, clock, tmp_path: Path
) -> None:
    runtime = Runtime(live_server.settings, clock, key_store)
    results = jobs.run_once(runtime, RUN)
    assert all(r.ok and r.recorded for r in results.values()), results
    first_run = clock.now()
    clock.advance(seconds=100)
    # A failed run as the loop records it: the error class only, never the exception's message.
    job_runs.record(
        "enrollment.send_mail", clock.now(), clock.now() + timedelta(seconds=2), job_runs.FAILED,
        JobResult("raised SMTPConnectError; the log has the details"), "SMTPConnectError",
    )  # fmt: skip
    clock.advance(seconds=30)  # 130 s after the first runs: more than two intervals of a 60 s job

    log_in(page, live_server.url, admin_officer, ADMIN_PASSWORD, clock)
    page.goto(live_server.url + "/admin/zadania")
    expect(page.locator("h1")).to_have_text("Zadania okresowe")
    presign = _row(page, "ocsp.presign")
    expect(presign).to_contain_text("1 min")
    expect(presign).to_contain_text(local_time(first_run))  # Europe/Warsaw: 10:00 for 09:00 UTC
    expect(presign).to_contain_text("powodzenie")
    expect(presign).to_contain_text(socket.gethostname())
    expect(presign).to_contain_text("zaległe: brak udanego przebiegu od ponad 2 min")
    expect(_row(page, "ca.ocsp_signers.renew")).to_contain_text("aktualne")  # hourly: not yet stale
    mail = _row(page, "enrollment.send_mail")
    expect(mail).to_contain_text("błąd")
    expect(mail).to_contain_text("2,00 s")
    expect(mail).to_contain_text("ostatni przebieg nieudany")  # tried 30 s ago: stale only after 60 s
    expect(_row(page, "enrollment.housekeeping")).to_contain_text("jeszcze nie uruchomione")
    recent = page.locator("#przebiegi tbody tr")
    expect(recent).to_have_count(len(RUN) + 1)
    expect(recent.first).to_contain_text("SMTPConnectError")
    check_page(page, "admin-zadania", tmp_path)
