"""``sekap-trust audit verify|seal``."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from ca import reconcile
from config.commands.context import CommandContext
from config.wiring.audit import audit_public_keys, chain_key, seal_now, seal_token_problems
from core import audit
from ocsp.ledger import live_signatures_since


def register(sub: Any) -> None:
    a = sub.add_parser("audit", help="audit trail").add_subparsers(dest="audit_command", required=True)
    a.add_parser("verify", help="check the hash chain and seals; exit 1 on any problem").set_defaults(
        handler=cmd_verify
    )
    a.add_parser("seal", help="sign the current chain head with the audit key").set_defaults(handler=cmd_seal)
    rec = a.add_parser("reconcile", help="signatures without a stored result: stale reservations; exit 1 if any")
    rec.add_argument("--older-than-minutes", type=int, default=5)
    rec.set_defaults(handler=cmd_reconcile)


def cmd_verify(args: argparse.Namespace, ctx: CommandContext) -> int:
    key = chain_key(ctx.runtime)
    report = audit.verify_chain(audit_public_keys(), key)  # type: ignore[arg-type]
    token_problems = seal_token_problems(ctx.runtime)
    for problem in [*report.problems, *token_problems]:
        ctx.print(f"PROBLEM {problem.kind:12} at {problem.seq}: {problem.message}")
    ok = report.ok and not token_problems
    state = "OK" if ok else "BROKEN"
    ctx.print(
        f"audit chain {state}: {report.records} records, head {report.head_seq}, {report.seals_checked} seals checked"
        f" ({report.seals_timestamped} timestamped)"
    )
    age = report.seal_age(ctx.runtime.clock.now())
    if age is None:
        ctx.print("last seal: never" + (" (records after it are protected only by the chain key)" if key else ""))
    else:
        ctx.print(f"last seal: record {report.last_seal_seq}, {int(age.total_seconds())} s ago")
    ctx.print(
        "chain key: " + ("records and head MACs checked" if report.keyed else "not configured or chain not keyed")
    )
    return 0 if ok else 1


def cmd_seal(args: argparse.Namespace, ctx: CommandContext) -> int:
    seal = seal_now(ctx.runtime, actor=ctx.actor)
    stamped = "with a TSA timestamp" if seal.timestamp_token is not None else "WITHOUT a TSA timestamp"
    ctx.print(f"sealed audit chain at record {seal.seq} (hash {seal.hash}) with key {seal.key_label}, {stamped}")
    return 0


def cmd_reconcile(args: argparse.Namespace, ctx: CommandContext) -> int:
    now = ctx.runtime.clock.now()
    stale = reconcile.stale_reservations(now, timedelta(minutes=args.older_than_minutes))
    for item in stale:
        state = "revoked" if item.revoked else "NOT revoked"
        ctx.print(
            f"STALE reservation {item.issuer}:{item.serial} ({item.profile}), reserved "
            f"{int(item.age(now).total_seconds())} s ago, {state}: resolve with "
            f"`sekap-trust cert resolve-reservation {item.serial} --issuer {item.issuer} --revoke` or --failed"
        )
    ctx.print(f"reconcile: {len(stale)} stale reservation(s)")
    since = now - timedelta(hours=24)
    for signer, count in sorted(live_signatures_since(since).items()):
        ctx.print(
            f"OCSP live signatures in the last 24 h by {signer}: {count} (counted per minute, ocsp_signature_count)"
        )
    return 1 if stale else 0
