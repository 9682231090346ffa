"""``sekap-trust cert issue|show|list|revoke|suspend|resume`` (administrators; every change audited)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ca.hierarchy import authority
from ca.issuance import IssuancePipeline, IssueRequest
from ca.models import Certificate
from ca.requests import load_csr, parse_subject_json
from ca.revocation import REVOCATION_REASONS, RevocationService, canonical_serial
from ca.status import status_of_row
from config.commands.context import CommandContext
from core.clock import ensure_utc
from core.errors import ValidationError


def register(sub: Any) -> None:
    cert = sub.add_parser("cert", help="end-entity certificates").add_subparsers(dest="cert_command", required=True)

    issue = cert.add_parser("issue", help="issue a certificate for a CSR; prints the PEM")
    issue.add_argument("--csr", required=True, help="PKCS#10 request, PEM or DER")
    issue.add_argument("--profile", help="certificate profile (default: ca.default_profile)")
    issue.add_argument(
        "--subject-json",
        required=True,
        help='JSON file: {"given_name", "surname", "pesel" | "id_card" | "passport", "email"?}',
    )
    issue.add_argument("--issuer", help="issuing CA name (default: the issuing CA)")
    issue.add_argument("--subject-ref", help="internal reference stored with the certificate")
    issue.set_defaults(handler=cmd_issue)

    show = cert.add_parser("show", help="show one certificate")
    show.add_argument("serial", help="serial number in hex")
    show.add_argument("--issuer", help="CA name (default: the issuing CA)")
    show.add_argument("--json", action="store_true")
    show.add_argument("--pem", action="store_true", help="print the certificate as PEM")
    show.set_defaults(handler=cmd_show)

    lst = cert.add_parser("list", help="list certificates, newest first")
    lst.add_argument("--issuer", help="CA name (default: the issuing CA)")
    lst.add_argument("--status", choices=("valid", "revoked", "suspended", "reserved", "failed"))
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)

    revoke = cert.add_parser("revoke", help="revoke a certificate (final)")
    revoke.add_argument("serial")
    revoke.add_argument("--reason", default="unspecified", choices=REVOCATION_REASONS)
    revoke.add_argument("--invalidity-date", help="ISO 8601 time with offset when the key was compromised")
    revoke.add_argument("--issuer")
    revoke.set_defaults(handler=cmd_revoke)

    for name, handler, text in (
        ("suspend", cmd_suspend, "suspend (certificateHold)"),
        ("resume", cmd_resume, "lift a suspension"),
    ):
        p = cert.add_parser(name, help=text)
        p.add_argument("serial")
        p.add_argument("--issuer")
        p.set_defaults(handler=handler)


def _issuer(args: argparse.Namespace, ctx: CommandContext) -> str:
    return str(args.issuer or ctx.runtime.settings.ca.issuing.name)


def _fail(error: ValidationError) -> int:
    print(f"error: {error.message}", file=sys.stderr)
    for item in error.errors:
        print(f"  {item.field}: {item.message}", file=sys.stderr)
    return 2


def cmd_issue(args: argparse.Namespace, ctx: CommandContext) -> int:
    try:
        csr = load_csr(Path(args.csr).read_bytes())
        subject = parse_subject_json(Path(args.subject_json).read_bytes())
        pipeline = IssuancePipeline(ctx.runtime.settings.ca, ctx.runtime.key_store, ctx.runtime.clock)
        issued = pipeline.issue(
            IssueRequest(
                profile=args.profile or ctx.runtime.settings.ca.default_profile,
                subject=subject,
                public_key=csr.public_key(),
                issuer=args.issuer,
                subject_ref=args.subject_ref,
            ),
            actor=ctx.actor,
        )
    except ValidationError as exc:
        return _fail(exc)
    except OSError as exc:
        print(f"error: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    print(
        f"issued serial {issued.serial} by {issued.issuer}, valid until {issued.not_after.isoformat()}", file=sys.stderr
    )
    ctx.out.write(issued.pem.decode())
    return 0


def _describe(row: Certificate) -> dict[str, Any]:
    status = status_of_row(row)
    if row.revocation_reason == "certificateHold":
        label = "suspended"
    elif row.revocation_reason:
        label = "revoked"
    elif row.state != "issued":
        label = row.state
    else:
        label = "valid"
    return {
        "serial": row.serial,
        "issuer": row.issuer.name,
        "state": row.state,
        "status": label,
        "ocsp_status": status.kind,
        "profile": row.profile,
        "subject": row.subject,
        "subject_ref": row.subject_ref,
        "not_before": row.not_before.isoformat(),
        "not_after": row.not_after.isoformat(),
        "fingerprint_sha256": row.fingerprint_sha256,
        "revocation_reason": row.revocation_reason,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "invalidity_date": row.invalidity_date.isoformat() if row.invalidity_date else None,
    }


def _find(args: argparse.Namespace, ctx: CommandContext) -> Certificate:
    from ca.errors import CertificateNotFoundError

    issuer = authority(_issuer(args, ctx))
    serial = canonical_serial(args.serial)
    row = Certificate.get_or_none((Certificate.issuer == issuer) & (Certificate.serial == serial))
    if row is None:
        raise CertificateNotFoundError(serial)
    return row  # type: ignore[no-any-return]


def cmd_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    row = _find(args, ctx)
    if args.pem:
        if row.der is None:
            print("error: the certificate was never stored (reservation only)", file=sys.stderr)
            return 1
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        ctx.out.write(x509.load_der_x509_certificate(bytes(row.der)).public_bytes(Encoding.PEM).decode())
        return 0
    info = _describe(row)
    if args.json:
        ctx.print_json(info)
    else:
        for key, value in info.items():
            ctx.print(f"{key:20} {value if value is not None else '-'}")
    return 0


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    issuer = authority(_issuer(args, ctx))
    query = Certificate.select().where(Certificate.issuer == issuer)
    if args.status == "valid":
        query = query.where((Certificate.state == "issued") & Certificate.revocation_reason.is_null())
    elif args.status == "revoked":
        query = query.where(
            Certificate.revocation_reason.is_null(False) & (Certificate.revocation_reason != "certificateHold")
        )
    elif args.status == "suspended":
        query = query.where(Certificate.revocation_reason == "certificateHold")
    elif args.status in ("reserved", "failed"):
        query = query.where(Certificate.state == args.status)
    rows = [_describe(r) for r in query.order_by(Certificate.id.desc()).limit(max(1, args.limit))]
    if args.json:
        ctx.print_json(rows)
        return 0
    for item in rows:
        ctx.print(
            f"{item['serial']:40} {item['status']:9} {item['profile']:12} until {item['not_after']}  {item['subject']}"
        )
    return 0


def cmd_revoke(args: argparse.Namespace, ctx: CommandContext) -> int:
    invalidity = None
    if args.invalidity_date:
        try:
            invalidity = ensure_utc(datetime.fromisoformat(args.invalidity_date))
        except ValueError:
            print("error: --invalidity-date must be an ISO 8601 time with a UTC offset", file=sys.stderr)
            return 2
    try:
        row = RevocationService(ctx.runtime.settings.ca, ctx.runtime.clock).revoke(
            _issuer(args, ctx), args.serial, args.reason, actor=ctx.actor, invalidity_date=invalidity
        )
    except ValidationError as exc:
        return _fail(exc)
    ctx.print(f"revoked {row.serial} ({row.revocation_reason}) at {row.revoked_at.isoformat()}")
    return 0


def cmd_suspend(args: argparse.Namespace, ctx: CommandContext) -> int:
    row = RevocationService(ctx.runtime.settings.ca, ctx.runtime.clock).suspend(
        _issuer(args, ctx), args.serial, actor=ctx.actor
    )
    ctx.print(f"suspended {row.serial} at {row.revoked_at.isoformat()}")
    return 0


def cmd_resume(args: argparse.Namespace, ctx: CommandContext) -> int:
    row = RevocationService(ctx.runtime.settings.ca, ctx.runtime.clock).resume(
        _issuer(args, ctx), args.serial, actor=ctx.actor
    )
    ctx.print(f"resumed {row.serial}")
    return 0
