"""``list``, ``show`` and ``disable`` for points, officers, portal clients and agreements (added to
the ``point``, ``officer``, ``portal-client`` and ``agreement`` commands of enrollment_cmd).

Nothing secret is printed: no password hashes, token hashes or TOTP secrets."""

from __future__ import annotations

import argparse
from typing import Any

from access.clients import disable_portal_client
from access.models import Officer, PortalClient
from config.commands.context import CommandContext
from enrollment.admin import Administration
from enrollment.models import Agreement, CertificationPoint, OfficerPoint
from enrollment.totp import SecondFactor


def add_commands(point: Any, officer: Any, portal: Any, agreement: Any) -> None:
    def parser(group: Any, name: str, help_text: str, handler: Any, *key: str) -> None:
        p = group.add_parser(name, allow_abbrev=False, help=help_text)
        for flag in key:
            p.add_argument(flag, required=True, type=int if flag in ("--id", "--version") else str)
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=handler)

    parser(point, "show", "one certification point", cmd_point_show, "--id")
    parser(point, "disable", "close a point for new applications", cmd_point_disable, "--id")
    parser(officer, "list", "list officers (roles, points, second factor)", cmd_officer_list)
    parser(officer, "show", "one officer", cmd_officer_show, "--username")
    parser(portal, "list", "list portal clients", cmd_portal_list)
    parser(portal, "show", "one portal client", cmd_portal_show, "--name")
    parser(portal, "disable", "disable a portal client: its token stops working at once", cmd_portal_disable, "--name")
    parser(agreement, "list", "list agreement versions", cmd_agreement_list)
    parser(agreement, "show", "print one agreement version", cmd_agreement_show, "--version")


def point_view(p: CertificationPoint) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "address": f"{p.street}, {p.postal_code} {p.city}",
        "teryt": p.teryt,
        "opening_hours": p.opening_hours,
        "phone": p.phone,
        "dual_control": p.dual_control,
        "disabled": p.disabled,
    }


def officer_view(o: Officer, factor: SecondFactor) -> dict[str, Any]:
    points = sorted(link.point_id for link in OfficerPoint.select().where(OfficerPoint.officer == o.id))
    return {
        "id": o.id,
        "username": o.username,
        "roles": sorted(o.role_set),
        "points": points,
        "disabled": o.disabled,
        "totp": factor.enrolled(o.id),
        "locked_until": o.locked_until,
    }


def portal_view(c: PortalClient) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "scopes": sorted(c.scope_set),
        "disabled": c.disabled,
        "created_at": c.created_at,
    }


def _out(ctx: CommandContext, args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    if args.json:
        ctx.print_json(rows)
        return 0
    for row in rows:
        ctx.print("  ".join(f"{k}={v}" for k, v in row.items()))
    return 0


def _one(ctx: CommandContext, args: argparse.Namespace, row: dict[str, Any] | None, what: str) -> int:
    if row is None:
        ctx.print(f"no such {what}")
        return 1
    return _out(ctx, args, [row])


def cmd_point_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    p = CertificationPoint.get_or_none(CertificationPoint.id == args.id)
    return _one(ctx, args, point_view(p) if p else None, "certification point")


def cmd_point_disable(args: argparse.Namespace, ctx: CommandContext) -> int:
    p = Administration(ctx.runtime.settings.enrollment, ctx.runtime.clock).disable_point(args.id, actor=ctx.actor)
    ctx.print(f"certification point {p.id} ({p.name}) takes no new applications")
    return 0


def cmd_officer_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    factor = SecondFactor(ctx.runtime.clock)
    return _out(ctx, args, [officer_view(o, factor) for o in Officer.select().order_by(Officer.id)])


def cmd_officer_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    o = Officer.get_or_none(Officer.username == args.username.strip())
    return _one(ctx, args, officer_view(o, SecondFactor(ctx.runtime.clock)) if o else None, "officer")


def cmd_portal_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    return _out(ctx, args, [portal_view(c) for c in PortalClient.select().order_by(PortalClient.id)])


def cmd_portal_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    c = PortalClient.get_or_none(PortalClient.name == args.name.strip())
    return _one(ctx, args, portal_view(c) if c else None, "portal client")


def cmd_portal_disable(args: argparse.Namespace, ctx: CommandContext) -> int:
    client = disable_portal_client(ctx.runtime.clock, args.name, actor=ctx.actor)
    ctx.print(f"portal client {client.name} disabled; its token no longer works")
    return 0


def cmd_agreement_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    rows = [
        {"version": a.version, "sha256": a.sha256, "created_at": a.created_at, "characters": len(a.text)}
        for a in Agreement.select().order_by(Agreement.version)
    ]
    return _out(ctx, args, rows)


def cmd_agreement_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    a = Agreement.get_or_none(Agreement.version == args.version)
    if a is None:
        ctx.print(f"no agreement version {args.version}")
        return 1
    if args.json:
        ctx.print_json({"version": a.version, "sha256": a.sha256, "created_at": a.created_at, "text": a.text})
    else:
        ctx.print(f"version {a.version}, SHA-256 {a.sha256}\n")
        ctx.print(a.text)
    return 0
