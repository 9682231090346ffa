"""Prometheus metrics at ``GET /metrics`` (prometheus-client), correct under several gunicorn
workers: each worker (and the jobs loop) writes its counters to files in
``PROMETHEUS_MULTIPROC_DIR``, which the gunicorn master empties at start; a scrape of any worker
adds them up. Without that variable (tests, the CLI) the process registry is used.

Per-request cost is one counter and one histogram observation (a few microseconds); gauges that
describe the system (CRL age, last audit seal age, stale reservations, outbox depth, stale jobs) are read
from the database only when scraped, so several hosts report the same truth.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from bisect import bisect_left
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import falcon

from core import events

if TYPE_CHECKING:  # config.runtime imports the protocol lane, which imports this module
    from config.runtime import Runtime

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def prepare_directory(path: str | Path) -> None:
    """Called once by the gunicorn master before it forks: an empty, private directory for the
    workers' metric files (old files would resurrect dead workers' counters)."""
    directory = Path(path)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROC_ENV] = str(directory)


def worker_exit(pid: int) -> None:
    """gunicorn ``child_exit``: drop a dead worker's live gauges (its counters stay summed)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class _Instruments:
    """Created on first use, in the process that uses it (after the fork, with the directory set)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.requests = Counter(
            "sekap_http_requests_total", "HTTP requests by route template and status", ["route", "method", "status"]
        )
        self.latency = Histogram(
            "sekap_http_request_seconds", "HTTP request latency by route template", ["route"], buckets=LATENCY_BUCKETS
        )
        self.job_runs = Counter("sekap_job_runs_total", "periodic job runs", ["job", "outcome"])
        self.ocsp_cache = Counter(
            "sekap_ocsp_cache_total",
            "OCSP answers by pre-signed cache outcome (hit; miss: signed live; bypass: not cacheable)",
            ["outcome"],
        )
        self.tsa_tokens = Counter("sekap_tsa_tokens_total", "time-stamp tokens issued and recorded", ["policy"])
        self.issued = Counter("sekap_certificates_issued_total", "certificates issued", ["issuer", "profile"])
        # Bound children: labels() costs a dict lookup and a lock per call, too much for /ocsp.
        self.ocsp_hit = self.ocsp_cache.labels(outcome="hit")
        self.ocsp_miss = self.ocsp_cache.labels(outcome="miss")
        self.ocsp_bypass = self.ocsp_cache.labels(outcome="bypass")
        self._lane: dict[tuple[str, int], tuple[Any, Any]] = {}

    def lane(self, path: str, code: int) -> tuple[Any, Any]:
        """The request counter and latency histogram children of a protocol-lane answer."""
        key = (path, code)
        found = self._lane.get(key)
        if found is None:
            found = (
                self.requests.labels(route=path, method="POST", status=str(code)),
                self.latency.labels(route=path),
            )
            self._lane[key] = found
        return found


_instruments: _Instruments | None = None
# Worker threads race for the first request; a second registration would raise DuplicateTimeseries.
_instruments_lock = threading.Lock()


def instruments() -> _Instruments:
    global _instruments
    if _instruments is None:
        with _instruments_lock:
            if _instruments is None:
                _instruments = _Instruments()
    return _instruments


class _LaneBuffer:
    """What the protocol lane counts, added up in the process and handed to prometheus-client at
    most every :data:`FLUSH_SECONDS` (and before every scrape this process answers).

    The lane answers a cached OCSP request in about 100 µs; a Counter.inc plus a
    Histogram.observe cost 5-10 µs there, more in multiprocess mode (each value is a locked
    write to a memory-mapped file). Adding to a dict under one lock costs well under 1 µs
    (bench/metrics_cost.py). A scrape answered by another worker sees this worker's last second
    of requests a second later; counters never go backwards."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, int], list[float]] = {}  # count, sum, then one slot per bucket
        self._cache = [0, 0, 0]  # hit, miss, bypass
        self._due = time.monotonic() + FLUSH_SECONDS

    def request(self, path: str, code: int, seconds: float) -> None:
        slot = 2 + bisect_left(LATENCY_BUCKETS, seconds)  # the first bucket with seconds <= bound; past them: +Inf
        with self._lock:
            entry = self._requests.get((path, code))
            if entry is None:
                entry = self._requests[(path, code)] = [0.0] * (3 + len(LATENCY_BUCKETS))
            entry[0] += 1
            entry[1] += seconds
            entry[slot] += 1
        if time.monotonic() >= self._due:
            self.flush()

    def cache(self, outcome: int) -> None:
        with self._lock:
            self._cache[outcome] += 1
        if time.monotonic() >= self._due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            requests, self._requests = self._requests, {}
            cache, self._cache = self._cache, [0, 0, 0]
            self._due = time.monotonic() + FLUSH_SECONDS
        if not requests and not any(cache):
            return
        m = instruments()
        for (path, code), entry in requests.items():
            counter, histogram = m.lane(path, code)
            counter.inc(entry[0])
            # Histogram has no public "observe n values at once"; these are the values observe()
            # itself adds to (prometheus-client 0.2x; tests/config/test_metrics.py checks them).
            histogram._sum.inc(entry[1])
            for bucket, count in zip(histogram._buckets, entry[2:], strict=True):
                if count:
                    bucket.inc(count)
        for child, count in zip((m.ocsp_hit, m.ocsp_miss, m.ocsp_bypass), cache, strict=True):
            if count:
                child.inc(count)


FLUSH_SECONDS = 1.0
_lane = _LaneBuffer()
_CACHE_OUTCOMES = {"hit": 0, "miss": 1}


def on_event(name: str, fields: dict[str, Any]) -> None:
    """The :mod:`core.events` subscriber for what the services count."""
    if name == events.OCSP_CACHE:
        _lane.cache(_CACHE_OUTCOMES.get(fields.get("outcome", ""), 2))
    elif name == events.TIMESTAMP_ISSUED:
        instruments().tsa_tokens.labels(policy=str(fields.get("policy", ""))).inc()
    elif name == events.CERTIFICATE_ISSUED:
        instruments().issued.labels(issuer=str(fields.get("issuer", "")), profile=str(fields.get("profile", ""))).inc()


def install() -> None:
    """Count the services' events (``create_app`` and the jobs loop call this)."""
    events.subscribe(on_event)


def flush_at_exit() -> None:
    """In a worker: hand the last second's lane counts over when it exits (granian's workers run
    multiprocessing's finalizers, gunicorn's run atexit; see config.system_audit)."""
    import atexit
    from multiprocessing import util

    atexit.register(_lane.flush)
    util.Finalize(None, _lane.flush, exitpriority=100)


def record_lane(path: str, code: int, seconds: float) -> None:
    """A request answered on the protocol lane (``POST /ocsp``, ``POST /tsa``), which bypasses
    falcon and so :class:`MetricsMiddleware`: counted under the same metrics, route = the path."""
    _lane.request(path, code, seconds)


def record_job(name: str, failed: bool) -> None:
    instruments().job_runs.labels(job=name, outcome="failure" if failed else "success").inc()


class MetricsMiddleware:
    """Counts every falcon-routed request by its route template (never the raw path: serials
    and references in paths would explode the label set and could carry personal data)."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.metrics_started = time.perf_counter()

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        started = getattr(req.context, "metrics_started", None)
        if started is None:
            return
        route = req.uri_template or "unrouted"
        status = str(resp.status)[:3] if resp.status else "200"
        metrics = instruments()
        metrics.requests.labels(route=route, method=req.method, status=status).inc()
        metrics.latency.labels(route=route).observe(time.perf_counter() - started)


class _StateCollector:
    """Gauges read from the database at scrape time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from ca import reconcile
        from ca.crl import newest_full_crl_times
        from core import audit
        from enrollment.models import OutgoingEmail

        now = self.runtime.clock.now()
        crl_age = GaugeMetricFamily("sekap_crl_age_seconds", "age of the newest full CRL per CA", labels=["ca"])
        for name, this_update in newest_full_crl_times().items():
            crl_age.add_metric([name], (now - this_update).total_seconds())
        yield crl_age
        seal = audit.last_seal()
        yield GaugeMetricFamily(
            "sekap_audit_last_seal_age_seconds",
            "seconds since the last audit seal (-1: never sealed)",
            value=(now - seal.at).total_seconds() if seal else -1,
        )
        yield GaugeMetricFamily(
            "sekap_stale_reservations",
            "issuance reservations older than 5 minutes",
            value=len(reconcile.stale_reservations(now)),
        )
        depth = OutgoingEmail.select().where(OutgoingEmail.sent_at.is_null() & ~OutgoingEmail.failed).count()
        yield GaugeMetricFamily("sekap_outbox_depth", "e-mails waiting to be sent", value=depth)
        yield _stale_jobs(now)


def _stale_jobs(now: datetime) -> Any:
    """1 per job whose last successful run (any host) is older than two intervals (core.job_runs)."""
    from prometheus_client.core import GaugeMetricFamily

    from config.job_schedule import SCHEDULE
    from core import job_runs

    stale = GaugeMetricFamily("sekap_job_stale", "1: no successful run for two intervals on any host", labels=["job"])
    for state in job_runs.states(SCHEDULE, now):
        stale.add_metric([state.name], 1 if state.stale else 0)
    return stale


class MetricsResource:
    """``GET /metrics`` in the Prometheus text format."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST

        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = render(self.runtime)


class _Forward:
    """The process registry inside a scrape's registry (without re-registering its collectors)."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def collect(self) -> Any:
        return self.source.collect()


def render(runtime: Runtime | None) -> bytes:
    """The exposition text: every process's metrics (multiprocess mode) or this process's, plus
    the database gauges when ``runtime`` is given."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

    instruments()  # so an idle process still exposes its metric families
    _lane.flush()
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))  # type: ignore[arg-type]
    if runtime is not None:
        registry.register(_StateCollector(runtime))  # type: ignore[arg-type]
    return bytes(generate_latest(registry))
