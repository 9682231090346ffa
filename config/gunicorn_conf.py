"""Production gunicorn settings, read from sekap-trust settings (``[server]``).

Workers are threaded (gthread): signing is CPU-bound but the HSM and database calls release
the GIL. The app is not preloaded, so nothing (PKCS#11, database connections) crosses a fork.
"""

from __future__ import annotations

from config.settings import load_settings

_settings = load_settings()

bind = f"{_settings.server.host}:{_settings.server.port}"
workers = _settings.server.workers
threads = _settings.server.threads
worker_class = "gthread"
timeout = _settings.server.timeout_seconds
graceful_timeout = 30
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


_jobs_process = None


def when_ready(server: object) -> None:
    """Start the jobs loop as a separate process (never a thread of the master, which forks)."""
    global _jobs_process
    if _settings.server.run_jobs:
        import subprocess
        import sys

        _jobs_process = subprocess.Popen([sys.executable, "-m", "config.cli", "jobs", "loop"])


def on_exit(server: object) -> None:
    if _jobs_process is not None:
        _jobs_process.terminate()
        _jobs_process.wait(timeout=30)
