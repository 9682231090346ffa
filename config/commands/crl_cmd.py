"""``sekap-trust crl publish [--ca NAME]``: force new CRLs now (audited)."""

from __future__ import annotations

import argparse
from typing import Any

from ca.crl import CRLPublisher
from config.commands.context import CommandContext


def register(sub: Any) -> None:
    crl = sub.add_parser("crl", help="certificate revocation lists").add_subparsers(dest="crl_command", required=True)
    publish = crl.add_parser("publish", help="publish a new full CRL (and delta CRL) now")
    publish.add_argument("--ca", help="CA name (default: every CA)")
    publish.set_defaults(handler=cmd_publish)


def cmd_publish(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = ctx.runtime.settings.ca
    publisher = CRLPublisher(settings, ctx.runtime.key_store, ctx.runtime.clock)
    names = [args.ca] if args.ca else [row.name for row in publisher.cas()]
    if not names:
        ctx.print("no CA hierarchy yet: run `sekap-trust init`")
        return 1
    for name in names:
        kinds = ("full", "delta") if settings.crl.delta else ("full",)
        for kind in kinds:
            crl = publisher.publish(name, kind=kind, actor=ctx.actor)
            assert crl is not None
            when = crl.next_update.isoformat()
            ctx.print(f"{name}: {kind} CRL {crl.number}, {crl.entries} entries, next update {when}")
            ctx.print(f"    {settings.delta_crl_url(name) if kind == 'delta' else settings.crl_url(name)}")
    return 0
