"""GET /metrics (issue 15 item 10): Prometheus text with requests by route template and status,
latency histograms, job runs, and the database gauges; counters of several worker processes add
up in multiprocess mode (as under gunicorn)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import peewee as pw
from prometheus_client.parser import text_string_to_metric_families

from config import jobs
from config.runtime import Runtime
from config.settings import Settings
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.conftest import make_client
from tests.pki import TestPKI


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_routes_and_report_state(
    settings: Settings, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore, pki: TestPKI
) -> None:
    client = make_client(settings, ["ca"], db, clock, key_store)
    before = _samples(client.simulate_get("/metrics").text)
    key = ("sekap_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))
    for _ in range(3):
        assert client.simulate_get("/healthz").status_code == 200
    client.simulate_get("/certs/no-such-ca.crt")
    jobs.run_once(Runtime(settings, clock, key_store), ["audit.seal"])
    response = client.simulate_get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = _samples(response.text)
    assert after[key] - before.get(key, 0) == 3
    assert any(
        name == "sekap_http_requests_total" and ("route", "/certs/{name}.crt") in labels for name, labels in after
    )
    assert any(name == "sekap_http_request_seconds_bucket" for name, _ in after)
    assert after[("sekap_job_runs_total", (("job", "audit.seal"), ("outcome", "success")))] >= 1
    assert after[("sekap_audit_last_seal_age_seconds", ())] == 0  # sealed just now (frozen clock)
    assert after[("sekap_stale_reservations", ())] == 0
    assert after[("sekap_outbox_depth", ())] == 0
    assert "/certs/no-such-ca.crt" not in response.text  # route templates only, never raw paths


def test_counters_of_several_processes_add_up(tmp_path: Path) -> None:
    """Multiprocess mode: what two workers counted is what a scrape of either reports."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    worker = textwrap.dedent(
        """
        from config import metrics
        for _ in range(5):
            metrics.instruments().requests.labels(route="/x", method="GET", status="200").inc()
        """
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, check=True, cwd=Path(__file__).parents[2])
    scrape = "from config import metrics; import sys; sys.stdout.write(metrics.render(None).decode())"
    out = subprocess.run(
        [sys.executable, "-c", scrape],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    ).stdout
    assert _samples(out)[("sekap_http_requests_total", (("method", "GET"), ("route", "/x"), ("status", "200")))] == 10
