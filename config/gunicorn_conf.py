"""gunicorn settings, read from sekap-trust settings (``[server]``), for ``server.http_server =
"gunicorn"`` (``sekap-trust serve`` runs granian by default; see config/serve.py).

Workers are threaded (gthread): signing is CPU-bound but the HSM and database calls release
the GIL. The app is not preloaded, so nothing (PKCS#11, database connections) crosses a fork.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from config import metrics
from config.serve import JobsProcess, run_file, stop_jobs_first
from config.settings import load_settings

_settings = load_settings()

bind = f"{_settings.server.host}:{_settings.server.port}"
workers = _settings.server.workers
threads = _settings.server.threads
worker_class = "gthread"
timeout = _settings.server.timeout_seconds
# Stopping workers finish their requests for this long. gunicorn's default (30 s) made Ctrl-C on
# `make run` wait 30 s and then report "Worker ... was sent SIGKILL! Perhaps out of memory?".
graceful_timeout = _settings.server.graceful_timeout_seconds
keepalive = 5
# Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads connections over the
# workers; with one shared socket a single worker often accepted every connection of a burst
# and the other idled (measured: 16 of 16 wrk connections on one worker, half the throughput).
reuse_port = True
preload_app = False
max_requests = 100_000
max_requests_jitter = 5_000
accesslog = None  # the app writes its own JSON access lines
errorlog = "-"
loglevel = _settings.logging.level.lower()
limit_request_line = 8190
# One control socket per instance (gunicorn's default is one per user: two instances shared it).
control_socket = str(run_file(_settings.server, "ctl"))


_jobs_process: JobsProcess | None = None

# Prometheus multiprocess mode (config.metrics): one fresh private directory per instance, set
# before any worker or the jobs loop starts, removed on exit.
if not os.environ.get(metrics.MULTIPROC_ENV):
    metrics.prepare_directory(tempfile.mkdtemp(prefix="sekap-trust-metrics-"))


def child_exit(server: object, worker: Any) -> None:
    metrics.worker_exit(worker.pid)


def when_ready(server: object) -> None:
    """Start the jobs loop as a separate process (never a thread of the master, which forks)."""
    global _jobs_process
    if _settings.server.run_jobs:
        _jobs_process = JobsProcess(timeout_seconds=_settings.server.graceful_timeout_seconds)
        _jobs_process.start()
        stop_jobs_first(server, _jobs_process, "stop")  # every arbiter stop is an exit


def on_exit(server: object) -> None:
    if _jobs_process is not None:
        _jobs_process.stop()
    shutil.rmtree(os.environ.get(metrics.MULTIPROC_ENV, ""), ignore_errors=True)
