"""``sekap-trust cert revoke-bulk`` / ``cert revoke-bulk-run`` and ``sekap-trust approvals``.

Bulk revocation is dual control: one administrator plans it (the set is fixed and an approval
request made), ``approvals.required`` other administrators approve it within
``approvals.ttl_hours``, then anyone runs it; the run resumes after an interruption and ends by
publishing CRLs and pre-signing OCSP responses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from ca import bulk, reconcile
from ca.api import REVOCATION_REASONS
from ca.crl import CRLPublisher
from config.commands.context import CommandContext
from config.wiring.ocsp import presign_job
from core import approvals
from core.clock import ensure_utc
from core.errors import ValidationError


def register_cert(cert: Any) -> None:
    plan = cert.add_parser("revoke-bulk", help="plan a bulk revocation (needs another administrator's approval)")
    plan.add_argument("--serials", help="file with one serial (hex) per line")
    plan.add_argument("--issuer", help="CA name (default: the issuing CA)")
    plan.add_argument("--profile", help="certificates of this profile")
    plan.add_argument("--issued-after", help="ISO 8601 time with offset")
    plan.add_argument("--issued-before", help="ISO 8601 time with offset")
    plan.add_argument("--reason", required=True, choices=REVOCATION_REASONS)
    plan.set_defaults(handler=cmd_plan)
    run = cert.add_parser("revoke-bulk-run", help="run an approved bulk revocation (resumes if interrupted)")
    run.add_argument("bulk_id", type=int)
    run.add_argument("--batch-size", type=int, default=500)
    run.set_defaults(handler=cmd_run)
    res = cert.add_parser("resolve-reservation", help="resolve a stale reservation (see audit reconcile)")
    res.add_argument("serial")
    res.add_argument("--issuer", help="CA name (default: the issuing CA)")
    how = res.add_mutually_exclusive_group(required=True)
    how.add_argument("--revoke", action="store_true", help="it may have been delivered: revoke and publish")
    how.add_argument("--failed", action="store_true", help="it was never delivered: mark failed (needs --evidence)")
    res.add_argument("--evidence", help="why it is known not to have been delivered")
    res.set_defaults(handler=cmd_resolve)


def register(sub: Any) -> None:
    a = sub.add_parser("approvals", help="dual control").add_subparsers(dest="approvals_command", required=True)
    a.add_parser("list", help="pending approval requests").set_defaults(handler=cmd_list)
    approve = a.add_parser("approve", help="approve a request made by another administrator")
    approve.add_argument("request_id", type=int)
    approve.set_defaults(handler=cmd_approve)


def _time(value: str | None, field: str) -> Any:
    if value is None:
        return None
    from datetime import datetime

    try:
        return ensure_utc(datetime.fromisoformat(value))
    except ValueError:
        raise ValidationError.single(field, "must be an ISO 8601 time with an offset") from None


def cmd_plan(args: argparse.Namespace, ctx: CommandContext) -> int:
    serials: tuple[str, ...] = ()
    if args.serials:
        text = Path(args.serials).read_text(encoding="ascii")
        serials = tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    selection = bulk.Selection(
        issuer=args.issuer,
        serials=serials,
        profile=args.profile,
        issued_after=_time(args.issued_after, "issued_after"),
        issued_before=_time(args.issued_before, "issued_before"),
    )
    terms = ctx.approval_terms()
    row = bulk.plan(
        ctx.runtime.settings.ca,
        ctx.runtime.clock,
        selection,
        args.reason,
        actor=ctx.actor,
        required_approvals=terms["required"],
        approval_ttl=terms["ttl"],
    )
    ctx.print(f"bulk revocation {row.id}: {row.total} certificate(s), reason {row.reason}")
    ctx.print_approval_needed(
        f"bulk revocation {row.id}", row.approval_id, f"sekap-trust cert revoke-bulk-run {row.id}"
    )
    return 0


class ProgressBar:
    """A one-line progress bar on a terminal (plain lines elsewhere, e.g. in logs)."""

    def __init__(self, stream: TextIO, width: int = 40) -> None:
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self._last = -1

    def __call__(self, p: bulk.BulkProgress) -> None:
        percent = 100 * p.done // max(p.total, 1)
        if not self.tty and percent // 10 == self._last // 10 and p.done != p.total:
            return
        self._last = percent
        filled = self.width * p.done // max(p.total, 1)
        line = f"[{'#' * filled}{' ' * (self.width - filled)}] {percent:3d}% {p.done}/{p.total} ({p.revoked} revoked)"
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()


def cmd_run(args: argparse.Namespace, ctx: CommandContext) -> int:
    runtime = ctx.runtime
    result = bulk.run(
        runtime.settings.ca,
        runtime.clock,
        args.bulk_id,
        actor=ctx.actor,
        batch_size=args.batch_size,
        progress=ProgressBar(sys.stderr),
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    ctx.print(f"bulk revocation {result.bulk_id}: {result.revoked} revoked, {result.done}/{result.total} done")
    _publish(runtime, result.issuers, ctx)
    return 0


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    for item in approvals.pending_requests(ctx.runtime.clock):
        ctx.print(
            f"{item.id:6} {item.kind:24} {item.state:9} {item.approvals}/{item.required} "
            f"by {item.requested_by}, expires {item.expires_at}"
        )
    return 0


def cmd_approve(args: argparse.Namespace, ctx: CommandContext) -> int:
    status = approvals.approve(ctx.runtime.clock, args.request_id, actor=ctx.actor)
    ctx.print(f"approval request {status.id} ({status.kind}): {status.approvals}/{status.required}, {status.state}")
    return 0


def _publish(runtime: Any, issuers: tuple[str, ...] | list[str], ctx: CommandContext) -> None:
    publisher = CRLPublisher(runtime.settings.ca, runtime.key_store, runtime.clock)
    for name in issuers:
        crl = publisher.publish(name, kind="full", actor=ctx.actor)
        if crl is not None:
            ctx.print(f"published CRL {name} number {crl.number} with {crl.entries} entries")
    ctx.print(f"OCSP: {presign_job(runtime)}")


def cmd_resolve(args: argparse.Namespace, ctx: CommandContext) -> int:
    runtime = ctx.runtime
    issuer = args.issuer or runtime.settings.ca.issuing.name
    if args.revoke:
        reconcile.resolve_by_revoking(runtime.settings.ca, runtime.clock, issuer, args.serial, actor=ctx.actor)
        ctx.print(f"reservation {issuer}:{args.serial} revoked")
        _publish(runtime, [issuer], ctx)
        return 0
    if not args.evidence:
        raise ValidationError.single("evidence", "--failed needs --evidence")
    reconcile.resolve_as_failed(runtime.clock, issuer, args.serial, actor=ctx.actor, evidence=args.evidence)
    ctx.print(f"reservation {issuer}:{args.serial} marked failed")
    return 0
