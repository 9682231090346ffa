"""``sekap-trust point add``, ``officer add|disable|reset-password|grant-role|apply-grant``,
``portal-client add``, ``agreement add``.

Administrator roles (``ra_admin``, ``ca_admin``) are dual control: ``officer grant-role``
proposes, ``approvals.required`` other administrators run ``approvals approve`` within
``approvals.ttl_hours``, then ``officer apply-grant`` (existing account) or ``officer add
--approval`` (new account) applies it, once.

Passwords never travel as plain arguments (they would land in shell history and ``ps``): they
come from an interactive prompt (asked twice) or from ``--password-file``.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import Any

from access.clients import add_portal_client
from access.models import ADMINISTRATOR_ROLES, ROLES, SCOPES
from config.commands import registry_cmd
from config.commands.context import CommandContext
from core.errors import ValidationError
from enrollment import role_grants
from enrollment.admin import Administration


def register(sub: Any) -> None:
    point = sub.add_parser("point", help="certification points").add_subparsers(dest="point_command", required=True)
    add = point.add_parser("add", allow_abbrev=False, help="add a certification point")
    add.add_argument("--name", required=True)
    add.add_argument("--street", required=True)
    add.add_argument("--postal-code", required=True, help="NN-NNN")
    add.add_argument("--city", required=True)
    add.add_argument("--teryt", required=True, help="TERYT TERC code (7 digits)")
    add.add_argument("--dual-control", action="store_true", help="a second officer approves every issuance")
    add.add_argument("--opening-hours", default="", help='e.g. "pon.-pt. 8:00-16:00"')
    add.add_argument("--phone", default="", help="the point's phone number for citizens")
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(handler=cmd_point_add)
    point.add_parser("list", help="list certification points").set_defaults(handler=cmd_point_list)

    officer = sub.add_parser("officer", help="registration officers").add_subparsers(
        dest="officer_command", required=True
    )
    oadd = officer.add_parser("add", allow_abbrev=False, help="add an officer")
    oadd.add_argument("--username", required=True)
    oadd.add_argument("--role", action="append", required=True, choices=ROLES, help="repeat for several roles")
    oadd.add_argument("--point", action="append", type=int, default=[], help="certification point id (repeatable)")
    oadd.add_argument("--password-file", help="read the password from this file (else prompt)")
    oadd.add_argument("--approval", type=int, help="approved role grant (needed for ra_admin, ca_admin)")
    oadd.add_argument("--json", action="store_true")
    oadd.set_defaults(handler=cmd_officer_add)
    _register_grants(officer)
    dis = officer.add_parser("disable", help="disable an officer and end their sessions")
    dis.add_argument("--username", required=True)
    dis.set_defaults(handler=cmd_officer_disable)
    reset = officer.add_parser("reset-password", allow_abbrev=False, help="set a new password (also lifts a lockout)")
    reset.add_argument("--username", required=True)
    reset.add_argument("--password-file", help="read the password from this file (else prompt)")
    reset.set_defaults(handler=cmd_officer_reset)
    totp = officer.add_parser(
        "totp-reset", allow_abbrev=False, help="remove the officer's TOTP second factor (they enrol again)"
    )
    totp.add_argument("--username", required=True)
    totp.set_defaults(handler=cmd_officer_totp_reset)

    portal = sub.add_parser("portal-client", help="portal API clients").add_subparsers(
        dest="portal_command", required=True
    )
    padd = portal.add_parser("add", allow_abbrev=False, help="add a portal client and print its token once")
    padd.add_argument("--name", required=True)
    padd.add_argument("--scopes", nargs="+", default=["applications", "citizens"], choices=SCOPES)
    padd.add_argument("--json", action="store_true")
    padd.set_defaults(handler=cmd_portal_add)

    agreement = sub.add_parser("agreement", help="agreement texts").add_subparsers(
        dest="agreement_command", required=True
    )
    aadd = agreement.add_parser(
        "add", allow_abbrev=False, help="publish a new agreement version from a UTF-8 text file"
    )
    aadd.add_argument("--file", required=True)
    aadd.add_argument("--json", action="store_true")
    aadd.set_defaults(handler=cmd_agreement_add)
    registry_cmd.add_commands(point, officer, portal, agreement)


def _register_grants(officer: Any) -> None:
    grant = officer.add_parser(
        "grant-role", allow_abbrev=False, help="propose administrator roles (other administrators approve)"
    )
    grant.add_argument("--username", required=True)
    grant.add_argument("--role", action="append", required=True, choices=sorted(ADMINISTRATOR_ROLES))
    grant.set_defaults(handler=cmd_officer_grant)
    apply = officer.add_parser("apply-grant", help="give an existing officer the roles of an approved grant")
    apply.add_argument("request_id", type=int)
    apply.set_defaults(handler=cmd_officer_apply_grant)


def read_password(args: argparse.Namespace) -> str:
    if args.password_file:
        text = Path(args.password_file).read_text(encoding="utf-8")
        password = text.rstrip("\r\n")
        if not password:
            raise ValidationError.single("password", "the password file is empty")
        return password
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat the password: "):
        raise ValidationError.single("password", "the passwords differ")
    return first


def _admin(ctx: CommandContext) -> Administration:
    return Administration(ctx.runtime.settings.enrollment, ctx.runtime.clock)


def cmd_point_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    point = _admin(ctx).add_point(
        name=args.name,
        street=args.street,
        postal_code=args.postal_code,
        city=args.city,
        teryt=args.teryt,
        dual_control=args.dual_control,
        actor=ctx.actor,
        opening_hours=args.opening_hours,
        phone=args.phone,
    )
    if args.json:
        ctx.print_json({"id": point.id, "name": point.name, "dual_control": point.dual_control})
    else:
        ctx.print(
            f"added certification point {point.id}: {point.name}" + (" (dual control)" if point.dual_control else "")
        )
    return 0


def cmd_point_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from enrollment.models import CertificationPoint

    for p in CertificationPoint.select().order_by(CertificationPoint.id):
        ctx.print(
            f"{p.id:4} {p.name}  {p.street}, {p.postal_code} {p.city}  TERYT {p.teryt}"
            + ("  dual control" if p.dual_control else "")
            + (f"  hours: {p.opening_hours}" if p.opening_hours else "")
            + (f"  phone: {p.phone}" if p.phone else "")
            + ("  DISABLED" if p.disabled else "")
        )
    return 0


def cmd_officer_grant(args: argparse.Namespace, ctx: CommandContext) -> int:
    row = role_grants.propose(ctx.runtime.clock, args.username, args.role, actor=ctx.actor, **ctx.approval_terms())
    ctx.print_approval_needed(
        f"role grant {row.id} ({', '.join(row.payload['roles'])} for {row.payload['username']})",
        row.id,
        f"sekap-trust officer apply-grant {row.id} (or officer add ... --approval {row.id})",
    )
    return 0


def cmd_officer_apply_grant(args: argparse.Namespace, ctx: CommandContext) -> int:
    officer = role_grants.apply_grant(ctx.runtime.clock, args.request_id, actor=ctx.actor)
    ctx.print(f"officer {officer.username}: {', '.join(sorted(officer.role_set))}")
    return 0


def cmd_officer_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    officer = _admin(ctx).add_officer(
        username=args.username,
        password=read_password(args),
        roles=args.role,
        points=args.point,
        actor=ctx.actor,
        approval_id=args.approval,
    )
    if args.json:
        ctx.print_json(
            {
                "id": officer.id,
                "username": officer.username,
                "roles": sorted(officer.role_set),
                "points": sorted(set(args.point)),
            }
        )
    else:
        ctx.print(f"added officer {officer.id}: {officer.username} ({', '.join(sorted(officer.role_set))})")
    return 0


def cmd_officer_disable(args: argparse.Namespace, ctx: CommandContext) -> int:
    officer = _admin(ctx).disable_officer(args.username, actor=ctx.actor)
    ctx.print(f"disabled officer {officer.username}; their sessions ended")
    return 0


def cmd_officer_reset(args: argparse.Namespace, ctx: CommandContext) -> int:
    officer = _admin(ctx).reset_password(args.username, read_password(args), actor=ctx.actor)
    ctx.print(f"new password set for {officer.username}; lockout lifted, sessions ended")
    return 0


def cmd_officer_totp_reset(args: argparse.Namespace, ctx: CommandContext) -> int:
    from access.models import Officer
    from enrollment.totp import SecondFactor

    officer = Officer.get_or_none(Officer.username == args.username.strip())
    if officer is None:
        ctx.print(f"no officer {args.username!r}")
        return 1
    removed = SecondFactor(ctx.runtime.clock).reset(officer.id, actor=ctx.actor)
    state = "removed" if removed else "was not set up"
    ctx.print(f"TOTP second factor of {officer.username} {state}; they enrol again at the next log-in")
    return 0


def cmd_portal_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    client = add_portal_client(ctx.runtime.clock, name=args.name, scopes=args.scopes, actor=ctx.actor)
    if args.json:
        ctx.print_json({"id": client.id, "name": client.name, "scopes": list(client.scopes), "token": client.token})
    else:
        ctx.print(f"added portal client {client.id}: {client.name} (scopes: {', '.join(client.scopes)})")
        ctx.print("token (shown only now; store it in the portal's secret store):")
        ctx.print(client.token)
    return 0


def cmd_agreement_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    text = Path(args.file).read_text(encoding="utf-8")
    row = _admin(ctx).add_agreement(text, actor=ctx.actor)
    if args.json:
        ctx.print_json({"version": row.version, "sha256": row.sha256})
    else:
        ctx.print(f"published agreement version {row.version} (SHA-256 {row.sha256})")
    return 0
