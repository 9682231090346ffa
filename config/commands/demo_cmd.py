"""``sekap-trust demo prepare``: what ``make run`` does before starting gunicorn.

Applies migrations, runs the key ceremony on first start, and prints what exists and how to use
the CLI against it.
"""

from __future__ import annotations

import argparse
from typing import Any

from ca.errors import AuthorityNotFoundError
from ca.hierarchy import Ceremony, authority, authority_listing, hierarchy_exists
from config.commands import ca_cmd
from config.commands.context import CommandContext
from config.migrations import all_migrations
from core.migrations import upgrade


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="embedded demo instance").add_subparsers(dest="demo_command", required=True)
    demo.add_parser("prepare", help="migrate and, on first start, create the demo CA hierarchy").set_defaults(
        handler=cmd_prepare
    )


def cmd_prepare(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = ctx.runtime.settings
    ran = upgrade(all_migrations())
    ctx.print(f"database {settings.database.url}: {len(ran)} migration(s) applied")
    if hierarchy_exists():
        ctx.print("demo CA hierarchy already exists (delete ./var to start over)")
        try:
            authority(settings.ca.receipt_seal.name)
        except AuthorityNotFoundError:
            # A demo made before receipts existed: add the seal instead of asking to start over.
            Ceremony(settings.ca, ctx.runtime.key_store, ctx.runtime.clock, actor=ctx.actor).add_receipt_seal()
            ctx.print("added the receipt seal to the existing hierarchy")
    else:
        Ceremony(settings.ca, ctx.runtime.key_store, ctx.runtime.clock, actor=ctx.actor).run()
        ca_cmd.record_profiles(ctx)
        store = f"{settings.keystore.backend} key store at {settings.keystore.path}"
        ctx.print(f"created the demo CA hierarchy; keys in the {store}")
    base = settings.ca.public_base_url
    for item in authority_listing(settings.ca):
        ctx.print(f"  {item['role']:8} {item['name']:16} {item['certificate_url']}")
    ctx.print("")
    ctx.print(f"Serving on {base}  (GET /healthz, /readyz, /certs/<name>.crt)")
    ctx.print("Use the CLI on this instance from the repository, e.g.:")
    ctx.print("  .venv/bin/sekap-trust ca list --json")
    ctx.print("  .venv/bin/sekap-trust audit verify")
    ctx.print("  .venv/bin/sekap-trust --help")
    return 0
