"""``sekap-trust init`` (the key ceremony) and ``sekap-trust ca list``."""

from __future__ import annotations

import argparse
from typing import Any

from ca import hierarchy, profile_control
from ca.crl import CRLPublisher
from ca.hierarchy import Ceremony, hierarchy_exists
from config.commands.context import CommandContext


def register(sub: Any) -> None:
    init = sub.add_parser("init", help="key ceremony: create the CA hierarchy from the settings")
    init.add_argument("--if-absent", action="store_true", help="do nothing (exit 0) when a hierarchy exists")
    init.set_defaults(handler=cmd_init)
    ca = sub.add_parser("ca", help="CA hierarchy").add_subparsers(dest="ca_command", required=True)
    lst = ca.add_parser("list", help="list every CA and signer")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    lst.set_defaults(handler=cmd_list)
    seal = ca.add_parser("add-receipt-seal", help="give a hierarchy made before receipts existed its receipt seal")
    seal.set_defaults(handler=cmd_add_receipt_seal)


def cmd_add_receipt_seal(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = ctx.runtime.settings
    (step,) = Ceremony(settings.ca, ctx.runtime.key_store, ctx.runtime.clock, actor=ctx.actor).add_receipt_seal()
    ctx.print(f"created the receipt seal {step.name}: {step.subject}, serial {step.serial}")
    return 0


def record_profiles(ctx: CommandContext) -> None:
    """After the key ceremony: from now on a profile changes under dual control (ca.profile_control)."""
    if not profile_control.approved_digests():
        profile_control.pin_configured(ctx.runtime.settings.ca.profiles, ctx.runtime.clock, actor=ctx.actor)


def cmd_init(args: argparse.Namespace, ctx: CommandContext) -> int:
    if args.if_absent and hierarchy_exists():
        ctx.print("CA hierarchy already exists; nothing to do")
        return 0
    settings = ctx.runtime.settings
    steps = Ceremony(settings.ca, ctx.runtime.key_store, ctx.runtime.clock, actor=ctx.actor).run()
    ctx.print(
        f"Key ceremony completed at {ctx.runtime.clock.now().isoformat()} (key store: {settings.keystore.backend})"
    )
    record_profiles(ctx)
    for step in steps:
        ctx.print(f"  {step.role:8} {step.name}")
        ctx.print(f"           subject     {step.subject}")
        ctx.print(f"           serial      {step.serial}")
        ctx.print(f"           not after   {step.not_after.isoformat()}")
        ctx.print(f"           SHA-256     {step.fingerprint_sha256}")
        ctx.print(f"           key label   {step.key_label}")
    # The first CRLs right away, so the CRL distribution points answer from the start.
    publisher = CRLPublisher(settings.ca, ctx.runtime.key_store, ctx.runtime.clock)
    for ca in publisher.cas():
        for kind in ("full", "delta") if settings.ca.crl.delta else ("full",):
            crl = publisher.publish(ca.name, kind=kind, actor=ctx.actor)
            assert crl is not None
            ctx.print(f"  published the {kind} CRL {crl.number} of {ca.name}")
    return 0


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    listing = hierarchy.authority_listing(ctx.runtime.settings.ca)
    if args.json:
        ctx.print_json(listing)
        return 0
    if not listing:
        ctx.print("no CA hierarchy yet: run `sekap-trust init`")
    for item in listing:
        ctx.print(f"{item['role']:8} {item['name']:16} {item['serial']}  until {item['not_after']}  {item['subject']}")
    return 0
