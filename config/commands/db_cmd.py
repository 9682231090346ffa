"""``sekap-trust db upgrade|status``."""

from __future__ import annotations

import argparse
from typing import Any

from config.commands.context import CommandContext
from config.migrations import all_migrations
from core.migrations import pending, upgrade


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply pending schema migrations").set_defaults(handler=cmd_upgrade)
    db.add_parser("status", help="list pending schema migrations").set_defaults(handler=cmd_status)


def cmd_upgrade(args: argparse.Namespace, ctx: CommandContext) -> int:
    ran = upgrade(all_migrations())
    for m in ran:
        ctx.print(f"applied {m.package} {m.version:04d} {m.name}")
    if not ran:
        ctx.print("schema is up to date")
    return 0


def cmd_status(args: argparse.Namespace, ctx: CommandContext) -> int:
    todo = pending(all_migrations())
    for m in todo:
        ctx.print(f"pending {m.package} {m.version:04d} {m.name}")
    if not todo:
        ctx.print("schema is up to date")
    return 1 if todo else 0
