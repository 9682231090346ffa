"""``sekap-trust cert issue|show|list|revoke|suspend|resume`` (administrators; every change audited)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ca import status
from ca.api import REVOCATION_REASONS, CertificateAuthority, IssueRequest, canonical_serial, load_csr, record_refusal
from ca.errors import CertificateNotFoundError
from ca.hierarchy import authority
from ca.requests import parse_subject_json
from config.commands.context import CommandContext
from config.wiring.ca import certificate_authority
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
    lst.add_argument("--status", choices=status.RECORD_FILTERS)
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
    from config.commands.bulk_cmd import register_cert

    register_cert(cert)


def _issuer(args: argparse.Namespace, ctx: CommandContext) -> str:
    return str(args.issuer or ctx.runtime.settings.ca.issuing.name)


def _fail(error: ValidationError) -> int:
    print(f"error: {error.message}", file=sys.stderr)
    for item in error.errors:
        print(f"  {item.field}: {item.message}", file=sys.stderr)
    return 2


def _read_or_none(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def cmd_issue(args: argparse.Namespace, ctx: CommandContext) -> int:
    try:
        csr = load_csr(Path(args.csr).read_bytes())
        subject = parse_subject_json(Path(args.subject_json).read_bytes())
        issued = _ca(ctx).issue(
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
        record_refusal(ctx.runtime.clock, exc, actor=ctx.actor, source="cli", csr=_read_or_none(args.csr))
        return _fail(exc)
    except OSError as exc:
        print(f"error: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    print(
        f"issued serial {issued.serial} by {issued.issuer}, valid until {issued.not_after.isoformat()}", file=sys.stderr
    )
    ctx.out.write(issued.pem.decode())
    return 0


def _ca(ctx: CommandContext) -> CertificateAuthority:
    return certificate_authority(ctx.runtime)


def _describe(record: status.CertificateRecord) -> dict[str, Any]:
    state = record.state
    return {
        "serial": state.serial,
        "issuer": state.issuer,
        "state": record.stored,
        "status": record.label,
        "ocsp_status": state.relying_party.kind,
        "profile": record.profile,
        "subject": record.subject,
        "subject_ref": state.subject_ref,
        "not_before": state.not_before.isoformat() if state.not_before else None,
        "not_after": state.not_after.isoformat() if state.not_after else None,
        "fingerprint_sha256": record.fingerprint_sha256,
        "revocation_reason": state.reason,
        "revoked_at": state.revoked_at.isoformat() if state.revoked_at else None,
        "invalidity_date": state.invalidity_date.isoformat() if state.invalidity_date else None,
    }


def _find(args: argparse.Namespace, ctx: CommandContext) -> status.CertificateRecord:
    issuer = authority(_issuer(args, ctx)).name
    serial = canonical_serial(args.serial)
    record = status.certificate_record(issuer, serial, ctx.runtime.clock.now())
    if record is None:
        raise CertificateNotFoundError(serial)
    return record


def cmd_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    record = _find(args, ctx)
    if args.pem:
        if record.der is None:
            print("error: the certificate was never stored (reservation only)", file=sys.stderr)
            return 1
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        ctx.out.write(x509.load_der_x509_certificate(record.der).public_bytes(Encoding.PEM).decode())
        return 0
    info = _describe(record)
    if args.json:
        ctx.print_json(info)
    else:
        for key, value in info.items():
            ctx.print(f"{key:20} {value if value is not None else '-'}")
    return 0


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    issuer = authority(_issuer(args, ctx)).name
    records = status.certificate_records(issuer, ctx.runtime.clock.now(), only=args.status, limit=args.limit)
    rows = [_describe(r) for r in records]
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
        state = _ca(ctx).revoke(
            _issuer(args, ctx), args.serial, args.reason, actor=ctx.actor, invalidity_date=invalidity
        )
    except ValidationError as exc:
        return _fail(exc)
    assert state.revoked_at is not None
    ctx.print(f"revoked {state.serial} ({state.reason}) at {state.revoked_at.isoformat()}")
    return 0


def cmd_suspend(args: argparse.Namespace, ctx: CommandContext) -> int:
    state = _ca(ctx).suspend(_issuer(args, ctx), args.serial, actor=ctx.actor)
    assert state.revoked_at is not None
    ctx.print(f"suspended {state.serial} at {state.revoked_at.isoformat()}")
    return 0


def cmd_resume(args: argparse.Namespace, ctx: CommandContext) -> int:
    state = _ca(ctx).resume(_issuer(args, ctx), args.serial, actor=ctx.actor)
    ctx.print(f"resumed {state.serial}")
    return 0
