"""``sekap-trust`` command line. Each area registers its commands in ``config/commands/<area>.py``.

Run from the repository after ``make run``, it operates on the same demo instance (the default
settings point at ./var). ``--config`` or SEKAP_TRUST_CONFIG selects another settings file.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from typing import TextIO

import peewee as pw

from config.commands import COMMAND_MODULES, CommandContext
from config.logging_setup import configure_logging, redact
from config.runtime import Runtime
from config.settings import LoggingSettings, load_settings
from core import db as core_db
from core.clock import SystemClock
from core.errors import SekapError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sekap-trust", description="sekap-trust CA and trust services")
    parser.add_argument("--config", help="settings file (default: SEKAP_TRUST_CONFIG or packaged defaults)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, runtime: Runtime | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = out or sys.stdout
    try:
        no_database = getattr(args, "no_database", False)
        if runtime is None:
            settings = load_settings(args.config)
            configure_logging(LoggingSettings(level="WARNING", json=settings.logging.json))
            runtime = Runtime(settings, SystemClock())
            if not no_database:
                core_db.bind(core_db.open_database(settings.database.url))
        ctx = CommandContext(runtime=runtime, out=out, actor=f"cli:{_user()}")
        if no_database:  # e.g. `serve`, whose workers fork: nothing may be open in this process
            return int(args.handler(args, ctx))
        with core_db.connection():
            result: int = args.handler(args, ctx)
        return result
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # One clear line and a non-zero status, never a traceback (the details, if any, went
        # to the log where the code that failed wrote them).
        print(f"error: {describe_error(exc)}", file=sys.stderr)
        return 1


def describe_error(exc: BaseException) -> str:
    """One line for an operator: the error's own message, or what a database error means."""
    if isinstance(exc, SekapError):
        text = exc.message
    elif core_db.is_unavailable(exc):
        text = f"the database is not available ({_first_line(exc)}); check database.url and that it runs"
    elif isinstance(exc, pw.IntegrityError):
        text = f"the database refused the change ({_first_line(exc)})"
    elif isinstance(exc, pw.PeeweeException):
        text = f"database error ({_first_line(exc)})"
    else:
        text = f"unexpected {type(exc).__name__}: {_first_line(exc)}"
    return redact(text)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
