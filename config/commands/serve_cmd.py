"""``sekap-trust serve``: the HTTP server of ``[server] http_server`` plus the jobs loop (config/serve.py)."""

from __future__ import annotations

import argparse
from typing import Any

from config.commands.context import CommandContext
from config.serve import serve


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "serve", help="run the HTTP server chosen in [server] http_server (granian or gunicorn) and the jobs loop"
    )
    parser.set_defaults(handler=cmd_serve, no_database=True)


def cmd_serve(args: argparse.Namespace, ctx: CommandContext) -> int:
    return serve(ctx.runtime.settings)
