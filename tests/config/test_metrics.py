"""GET /metrics (issue 15 item 10): Prometheus text with requests by route template and status,
latency histograms, job runs, and the database gauges; counters of several worker processes add
up in multiprocess mode (as under gunicorn)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import peewee as pw
from prometheus_client.parser import text_string_to_metric_families

from ca.issuance import IssuancePipeline
from config import jobs
from config.runtime import Runtime
from config.settings import Settings
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from ocsp.directory import IssuerDirectory
from ocsp.jobs import presign
from tests.ca.conftest import citizen_request
from tests.conftest import make_client
from tests.ocsp.helpers import issue, request_der
from tests.pki import TestPKI
from tests.tsa.conftest import make_query


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


def _delta(before: dict[Any, float], after: dict[Any, float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0) - before.get(key, 0)


def test_protocol_lane_cache_tokens_and_issuances_are_counted(
    settings: Settings, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore, pki: TestPKI
) -> None:
    """issue 15 item 10: POST /ocsp and POST /tsa bypass falcon (config.protocol_lane) and are
    still counted by route and status with latency; OCSP pre-signed cache hits and misses
    (RFC 5019 §2.1.1 responses served from the cache), TSA tokens (RFC 3161 §2.4.2 granted) and
    issued certificates are counted."""
    client = make_client(settings, ["ca", "ocsp", "tsa"], db, clock, key_store)
    before = _samples(client.simulate_get("/metrics").text)
    cert = issue(pki, clock)
    der = request_der(pki.issuing, cert.serial_number)
    headers = {"Content-Type": "application/ocsp-request"}
    assert client.simulate_post("/ocsp", body=der, headers=headers).status_code == 200  # nothing cached: miss
    presign(settings.ocsp, clock, IssuerDirectory(key_store.find, refresh_seconds=0))
    for _ in range(2):
        assert client.simulate_post("/ocsp/", body=der, headers=headers).status_code == 200  # hits
    too_big = b"0" * (settings.ocsp.max_request_bytes + 1)
    assert client.simulate_post("/ocsp", body=too_big, headers=headers).status_code == 413
    tsa_headers = {"Content-Type": "application/timestamp-query"}
    assert client.simulate_post("/tsa", body=make_query(), headers=tsa_headers).status_code == 200
    pipeline = IssuancePipeline(settings.ca, key_store, clock)
    pipeline.issue(citizen_request(), actor="test:officer")
    after = _samples(client.simulate_get("/metrics").text)
    requests = "sekap_http_requests_total"
    assert _delta(before, after, requests, route="/ocsp", method="POST", status="200") == 3
    assert _delta(before, after, requests, route="/ocsp", method="POST", status="413") == 1
    assert _delta(before, after, requests, route="/tsa", method="POST", status="200") == 1
    assert _delta(before, after, "sekap_http_request_seconds_count", route="/ocsp") == 4
    assert _delta(before, after, "sekap_http_request_seconds_count", route="/tsa") == 1
    assert _delta(before, after, "sekap_ocsp_cache_total", outcome="hit") == 2
    assert _delta(before, after, "sekap_ocsp_cache_total", outcome="miss") == 1
    assert _delta(before, after, "sekap_tsa_tokens_total", policy=settings.tsa.policy_oid) == 1
    assert _delta(before, after, "sekap_certificates_issued_total", issuer="citizens", profile="citizen") == 1
