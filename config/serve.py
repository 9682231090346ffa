"""``sekap-trust serve``: run the HTTP server chosen in ``[server] http_server`` with the jobs loop.

- ``granian`` (default): a Rust HTTP server running the same WSGI app (``config.wsgi``) in
  ``server.workers`` processes with ``server.threads`` threads each. On this 2-core machine it
  serves the protocol endpoints several times faster than gunicorn, above all for clients that
  open one connection per request (bench/protocol_bench.py, BENCHMARKS.md).
- ``gunicorn``: the previous server (``config/gunicorn_conf.py``), kept for hosts that prefer it.

Either way the app is built in each worker (granian calls the factory inside the worker process,
gunicorn does not preload it), so PKCS#11 and database connections never cross a fork; the jobs
loop runs as a separate process beside the workers (``server.run_jobs``), started when the
server is ready and stopped with it. Each instance keeps its run files (granian's pid file,
gunicorn's control socket) in ``server.run_dir``, named by port, so two instances never share one.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from config import metrics
from config.settings import ServerSettings, Settings, load_settings

logger = logging.getLogger(__name__)

WSGI_FACTORY = "config.wsgi:application"
GRANIAN_FACTORY = "config.wsgi:granian_application"


def run_file(server: ServerSettings, kind: str) -> Path:
    """This instance's run file of ``kind`` ("pid", "ctl"): one per port, never shared."""
    return Path(server.run_dir) / f"sekap-trust-{server.port}.{kind}"


def jobs_command() -> list[str]:
    return [sys.executable, "-m", "config.cli", "jobs", "loop"]


class JobsProcess:
    """The jobs loop beside the workers (a process of its own, never a thread of a forking master)."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(jobs_command())

    def request_stop(self) -> None:
        """SIGTERM now, without waiting: the loop ends its current job while the workers stop."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=self.timeout_seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(settings: Settings) -> int:
    """Run the configured server until it is stopped (SIGINT/SIGTERM); SIGHUP restarts workers."""
    if settings.source != "defaults":
        # Workers and the jobs loop read the same settings file.
        os.environ["SEKAP_TRUST_CONFIG"] = str(Path(settings.source).resolve())
    Path(settings.server.run_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    if not os.environ.get(metrics.MULTIPROC_ENV):
        # Prometheus multiprocess mode: every worker and the jobs loop inherit this (emptied) directory.
        metrics.prepare_directory(Path(settings.server.run_dir) / f"metrics-{settings.server.port}")
    if settings.server.http_server == "gunicorn":
        return _supervise(gunicorn_command())
    return _supervise([sys.executable, "-m", "config.serve"])


def _supervise(command: list[str]) -> int:
    """Run the server in a session of its own and relay signals to its master only.

    Ctrl-C sends SIGINT to the whole foreground process group. granian's workers that receive
    SIGINT themselves and then SIGTERM from their master sometimes never stop (measured: 1–2 of
    2 workers in each of three runs, killed after ``workers_kill_timeout``; never with SIGTERM);
    gunicorn treats SIGINT as "quit now" while its workers get the same SIGINT directly (issue 15
    saw 30 s and "was sent SIGKILL! Perhaps out of memory?"). So the master alone is told, with
    SIGTERM (graceful stop), and stops its workers and the jobs loop itself. If this supervisor
    is killed outright (SIGKILL) the server's session lives on: stop a service by its process
    group or cgroup (systemd does), or by the pid file in ``server.run_dir``."""
    child = subprocess.Popen(command, start_new_session=True)

    def relay(signum: int, frame: FrameType | None) -> None:
        child.send_signal(signal.SIGHUP if signum == signal.SIGHUP else signal.SIGTERM)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, relay)
    return child.wait()


def gunicorn_command() -> list[str]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    return [gunicorn, "--config", "python:config.gunicorn_conf", f"{WSGI_FACTORY}()"]


def granian_server(settings: Settings) -> object:
    """The granian server for these settings (not started)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    server = settings.server
    return Server(
        GRANIAN_FACTORY,
        address=server.host,
        port=server.port,
        interface=Interfaces.WSGI,
        factory=True,  # the app is built inside each worker process
        workers=server.workers,
        blocking_threads=server.threads,
        http=HTTPModes.http1,
        websockets=False,
        log_level=LogLevels(settings.logging.level.lower()),
        log_access=False,  # the app writes its own JSON access lines
        respawn_failed_workers=True,
        # SIGTERM to a worker lets it finish its requests; past this it is killed (Ctrl-C,
        # stop, and the graceful restart on SIGHUP, which starts the new worker first).
        workers_kill_timeout=server.graceful_timeout_seconds,
        respawn_interval=server.restart_interval_seconds,
        pid_file=run_file(server, "pid"),
    )


def run_granian(settings: Settings) -> int:
    """The granian master (``python -m config.serve``), in its own session (see :func:`_supervise`)."""
    server = granian_server(settings)
    jobs = JobsProcess(timeout_seconds=settings.server.graceful_timeout_seconds)
    if settings.server.run_jobs:
        server.on_startup(jobs.start)  # type: ignore[attr-defined]
        server.on_shutdown(jobs.stop)  # type: ignore[attr-defined]
        stop_jobs_first(server, jobs, "shutdown")
    try:
        server.serve()  # type: ignore[attr-defined]
    finally:
        jobs.stop()
    return 0


def stop_jobs_first(server: object, jobs: JobsProcess, method: str) -> None:
    """Wrap the server's ``method`` that stops its workers (granian ``shutdown``, gunicorn's
    arbiter ``stop``) so that the jobs loop is told first. Both servers run their exit hooks only
    after the workers have stopped; a jobs loop still in its first round (every job is due at
    start) kept the database busy meanwhile, and on a loaded machine a worker's stop record
    waited past the kill timeout ("refused to gracefully stop", seen in CI). The exit hook then
    waits for the loop."""
    stop_workers = getattr(server, method)

    def stop_jobs_then_workers(*args: object, **kwargs: object) -> None:
        jobs.request_stop()
        stop_workers(*args, **kwargs)

    setattr(server, method, stop_jobs_then_workers)


if __name__ == "__main__":
    sys.exit(run_granian(load_settings()))
