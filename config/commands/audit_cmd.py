"""``sekap-trust audit verify|seal``."""

from __future__ import annotations

import argparse
from typing import Any

from ca.errors import AuthorityNotFoundError
from ca.hierarchy import authority, load_certificate
from config.commands.context import CommandContext
from core import audit


def register(sub: Any) -> None:
    a = sub.add_parser("audit", help="audit trail").add_subparsers(dest="audit_command", required=True)
    a.add_parser("verify", help="check the hash chain and seals; exit 1 on any problem").set_defaults(
        handler=cmd_verify
    )
    a.add_parser("seal", help="sign the current chain head with the audit key").set_defaults(handler=cmd_seal)


def _audit_keys() -> dict[str, Any]:
    try:
        row = authority("audit")
    except AuthorityNotFoundError:
        return {}
    return {row.key_label: load_certificate(row).public_key()}


def cmd_verify(args: argparse.Namespace, ctx: CommandContext) -> int:
    report = audit.verify_chain(_audit_keys())
    for problem in report.problems:
        ctx.print(f"PROBLEM {problem.kind:12} at {problem.seq}: {problem.message}")
    state = "OK" if report.ok else "BROKEN"
    ctx.print(
        f"audit chain {state}: {report.records} records, head {report.head_seq}, {report.seals_checked} seals checked"
    )
    return 0 if report.ok else 1


def cmd_seal(args: argparse.Namespace, ctx: CommandContext) -> int:
    row = authority("audit")
    key = ctx.runtime.key_store.find(row.key_label)
    seal = audit.seal(ctx.runtime.clock, key, row.key_label, actor=ctx.actor)
    ctx.print(f"sealed audit chain at record {seal.seq} (hash {seal.hash}) with key {row.key_label}")
    return 0
