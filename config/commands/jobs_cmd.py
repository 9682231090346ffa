"""``sekap-trust jobs list|run|loop|history``."""

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
from core import audit, job_runs
from core.db import atomic

logger = logging.getLogger(__name__)


def register(sub: Any) -> None:
    j = sub.add_parser("jobs", help="periodic jobs").add_subparsers(dest="jobs_command", required=True)
    j.add_parser("list", help="list jobs and intervals").set_defaults(handler=cmd_list)
    run = j.add_parser("run", help="run jobs once (all, or those named)")
    run.add_argument("names", nargs="*")
    run.set_defaults(handler=cmd_run)
    j.add_parser("loop", help="run jobs forever at their intervals").set_defaults(handler=cmd_loop)
    history = j.add_parser("history", help="recorded runs of the jobs, newest first (every host)")
    history.add_argument("--job", metavar="NAME", help="only this job")
    history.add_argument("--limit", type=_limit, default=20, metavar="N", help="at most N runs (1-1000, default 20)")
    history.add_argument("--failed", action="store_true", help="only runs that did not succeed")
    history.add_argument("--json", action="store_true", help="machine-readable output")
    history.set_defaults(handler=cmd_history)


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return value


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
    for name, outcome in results.items():
        ctx.print(f"{name}: {outcome.line()}")
    return 0 if all(o.ok for o in results.values()) else 1


def cmd_history(args: argparse.Namespace, ctx: CommandContext) -> int:
    if args.job is not None and args.job not in jobs.JOBS and args.job != jobs.SHUTDOWN_SEAL:
        ctx.print(f"unknown job: {args.job}")
        return 2
    runs = job_runs.history(args.job, args.limit, unsuccessful_only=args.failed)
    if args.json:
        ctx.print_json([_run_json(r) for r in runs])
        return 0
    if not runs:
        ctx.print("no recorded runs")
    for r in runs:
        where = f"{r.host}:{r.pid}"
        ctx.print(f"{r.started_at.isoformat()}  {r.job:32} {r.outcome:22} {r.seconds:8.2f} s  {where}  {r.summary}")
    return 0


def _run_json(run: job_runs.JobRunView) -> dict[str, Any]:
    return {
        "job": run.job,
        "host": run.host,
        "pid": run.pid,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "seconds": round(run.seconds, 3),
        "outcome": run.outcome,
        "summary": run.summary,
        "error_class": run.error_class,
        "counts": dict(run.counts),
    }


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
