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
from config.logging_setup import configure_logging
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
        if runtime is None:
            settings = load_settings(args.config)
            configure_logging(LoggingSettings(level="WARNING", json=settings.logging.json))
            runtime = Runtime(settings, SystemClock())
            if not getattr(args, "no_database", False):
                core_db.bind(core_db.open_database(settings.database.url))
        ctx = CommandContext(runtime=runtime, out=out, actor=f"cli:{_user()}")
        with core_db.connection():
            result: int = args.handler(args, ctx)
        return result
    except SekapError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except pw.OperationalError as exc:
        print(f"error: database unavailable: {exc}", file=sys.stderr)
        return 1


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
