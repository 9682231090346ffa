"""``sekap-trust jobs list|run|loop``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import threading
from typing import Any

from config import jobs
from config.commands.context import CommandContext
from core import audit
from core.db import atomic

logger = logging.getLogger(__name__)


def register(sub: Any) -> None:
    j = sub.add_parser("jobs", help="periodic jobs").add_subparsers(dest="jobs_command", required=True)
    j.add_parser("list", help="list jobs and intervals").set_defaults(handler=cmd_list)
    run = j.add_parser("run", help="run jobs once (all, or those named)")
    run.add_argument("names", nargs="*")
    run.set_defaults(handler=cmd_run)
    j.add_parser("loop", help="run jobs forever at their intervals").set_defaults(handler=cmd_loop)


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    for job in jobs.JOBS.values():
        ctx.print(f"{job.name:32} every {job.interval_seconds}s")
    return 0


def cmd_run(args: argparse.Namespace, ctx: CommandContext) -> int:
    unknown = [n for n in args.names if n not in jobs.JOBS]
    if unknown:
        ctx.print(f"unknown job(s): {', '.join(unknown)}")
        return 2
    results = jobs.run_once(ctx.runtime, args.names or None)
    for name, summary in results.items():
        ctx.print(f"{name}: {summary}")
    return 1 if any(s.startswith("failed") for s in results.values()) else 0


def cmd_loop(args: argparse.Namespace, ctx: CommandContext) -> int:
    ctx.print(f"running {len(jobs.JOBS)} job(s); Ctrl-C to stop")
    _audit_process(ctx, "process.start")
    stop = threading.Event()
    # gunicorn's master (or systemd) stops the loop with SIGTERM: finish the current job, then seal.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        with contextlib.suppress(KeyboardInterrupt):
            jobs.loop(ctx.runtime, stop)
    finally:
        signal.signal(signal.SIGTERM, previous)
    _audit_process(ctx, "process.stop")
    ctx.print(f"stopping: {jobs.seal_at_shutdown(ctx.runtime)}")
    return 0


def _audit_process(ctx: CommandContext, action: str) -> None:
    """Process start and stop are audited (issue 15: audit coverage): the jobs loop is the one
    long-lived process per host besides the workers. A database that is down must not stop the
    loop from starting or stopping; the failure is logged instead."""
    try:
        with atomic():
            audit.record(
                ctx.runtime.clock,
                actor=ctx.actor,
                action=action,
                object_type="process",
                object_id=f"{socket.gethostname()[:100]}:{os.getpid()}",
                details={"process": "jobs"},
            )
    except Exception:  # the database may be unreachable; never block start or shutdown on it
        logger.exception("could not audit %s", action)
