"""``sekap-trust profile list|pin|propose|apply``: certificate profiles under dual control
(ca.profile_control). An edited ``[ca.profiles.<name>]`` is used for issuance only after
``approvals.required`` other administrators approved its exact content within
``approvals.ttl_hours``."""

from __future__ import annotations

import argparse
from typing import Any

from ca import profile_control
from config.commands.context import CommandContext


def register(sub: Any) -> None:
    p = sub.add_parser("profile", help="certificate profiles (dual control)").add_subparsers(
        dest="profile_command", required=True
    )
    p.add_parser("list", help="configured profiles and whether each is approved").set_defaults(handler=cmd_list)
    p.add_parser("pin", help="record the configured profiles once (a database older than this control)").set_defaults(
        handler=cmd_pin
    )
    propose = p.add_parser("propose", help="ask other administrators to approve a changed profile")
    propose.add_argument("name")
    propose.set_defaults(handler=cmd_propose)
    apply = p.add_parser("apply", help="use a changed profile whose approval is complete")
    apply.add_argument("request_id", type=int)
    apply.set_defaults(handler=cmd_apply)


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    approved = profile_control.approved_digests()
    for name, profile in sorted(ctx.runtime.settings.ca.profiles.items()):
        digest = profile_control.profile_digest(profile)
        state = "approved" if approved.get(name) == digest else ("not recorded" if not approved else "CHANGED")
        ctx.print(f"{name:24} {digest[:16]}  {state}")
    return 0


def cmd_pin(args: argparse.Namespace, ctx: CommandContext) -> int:
    names = profile_control.pin_configured(ctx.runtime.settings.ca.profiles, ctx.runtime.clock, actor=ctx.actor)
    ctx.print(f"recorded {len(names)} profile(s): {', '.join(names)}")
    return 0


def cmd_propose(args: argparse.Namespace, ctx: CommandContext) -> int:
    profiles = ctx.runtime.settings.ca.profiles
    row = profile_control.propose(profiles, ctx.runtime.clock, args.name, actor=ctx.actor, **ctx.approval_terms())
    ctx.print_approval_needed(
        f"profile change {row.id} ({args.name}, SHA-256 {row.payload['sha256'][:16]})",
        row.id,
        f"sekap-trust profile apply {row.id}",
    )
    return 0


def cmd_apply(args: argparse.Namespace, ctx: CommandContext) -> int:
    name = profile_control.apply(ctx.runtime.settings.ca.profiles, ctx.runtime.clock, args.request_id, actor=ctx.actor)
    ctx.print(f"profile {name}: the approved content is in use")
    return 0
