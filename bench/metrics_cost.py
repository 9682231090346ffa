"""What counting costs the protocol lane (issue 15 item 10, issue 16): microseconds per
``POST /ocsp`` answered from the pre-signed cache, called in process through the WSGI app (no
HTTP server, no sockets), with the metrics on (request counter, latency histogram, cache-hit
counter) and off (``record_lane`` a no-op, the event handler unsubscribed). CPU time of the
process is measured (the machine is shared), and many short rounds alternate between the two
so that load on the machine hits both alike; the medians are reported.

    .venv/bin/python -m bench.metrics_cost [--requests 3000] [--rounds 31]

Runs itself twice: with the process registry (tests, CLI) and in prometheus-client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, as under gunicorn and granian), where every
increment writes to a memory-mapped file.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any


def _environ(body: bytes) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/ocsp",
        "CONTENT_TYPE": "application/ocsp-request",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "bench",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }


def _app() -> tuple[Any, bytes]:
    from bench.inprocess import bench_pki
    from config.app import create_app
    from ocsp.directory import IssuerDirectory
    from ocsp.jobs import presign
    from tests.ocsp.helpers import issue, request_der

    setup = bench_pki("sekap-metrics-cost-")
    cert = issue(setup.pki, setup.clock)
    app = create_app(setup.settings, ["ocsp"], clock=setup.clock, key_store=setup.key_store, database=setup.database)
    presign(setup.settings.ocsp, setup.clock, IssuerDirectory(setup.key_store.find, refresh_seconds=0))
    return app, request_der(setup.pki.issuing, cert.serial_number)


def _time(app: Any, body: bytes, requests: int) -> float:
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    # CPU time of this process: the machine is shared, wall time would mostly measure the others.
    started = time.process_time()
    for _ in range(requests):
        app(_environ(body), start_response)
    elapsed = time.process_time() - started
    assert statuses[-1].startswith("200"), statuses[-1]
    return elapsed / requests * 1e6


def _measure(requests: int, rounds: int, unbuffered: bool) -> dict[str, float]:
    import logging

    from config import metrics
    from core import events

    if unbuffered:  # every request handed to prometheus-client at once: what the buffer saves
        metrics.FLUSH_SECONDS = 0.0

    logging.disable(logging.CRITICAL)  # the access log is the same either way
    app, body = _app()
    counted = metrics.record_lane
    _time(app, body, 2000)  # warm: parse cache, connection, instruments
    on: list[float] = []
    off: list[float] = []
    for _ in range(rounds):
        metrics.record_lane = counted
        events.subscribe(metrics.on_event)
        on.append(_time(app, body, requests))
        metrics.record_lane = lambda path, code, seconds: None
        events.unsubscribe(metrics.on_event)
        off.append(_time(app, body, requests))
    return {"on": statistics.median(on), "off": statistics.median(off)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--unbuffered", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        result = _measure(args.requests, args.rounds, args.unbuffered)
        print(f"{result['off']:.2f} {result['on']:.2f}")
        return 0
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} CPU(s)")
    print("| registry | metrics off (µs/request) | metrics on (µs/request) | cost (µs) |")
    print("|---|---|---|---|")
    for mode in ("process", "multiprocess", "multiprocess, unbuffered"):
        env = dict(os.environ)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if mode.startswith("multiprocess"):
            env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sekap-metrics-cost-prom-")
        argv = [sys.executable, "-m", "bench.metrics_cost", "--one", "--requests", str(args.requests)]
        argv += ["--rounds", str(args.rounds)] + (["--unbuffered"] if "unbuffered" in mode else [])
        out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
        off, on = (float(x) for x in out.stdout.split()[-2:])
        print(f"| {mode} | {off:.1f} | {on:.1f} | {on - off:.1f} |")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
