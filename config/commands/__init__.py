"""CLI command modules. Each has ``register(subparsers)``; every parser sets ``handler(args, ctx)``."""

from __future__ import annotations

from config.commands import (
    audit_cmd,
    bulk_cmd,
    ca_cmd,
    cert_cmd,
    crl_cmd,
    db_cmd,
    demo_cmd,
    enrollment_cmd,
    jobs_cmd,
    mail_cmd,
    profile_cmd,
    serve_cmd,
)
from config.commands.context import CommandContext

COMMAND_MODULES = [
    db_cmd,
    ca_cmd,
    audit_cmd,
    demo_cmd,
    jobs_cmd,
    cert_cmd,
    crl_cmd,
    enrollment_cmd,
    mail_cmd,
    serve_cmd,
    bulk_cmd,
    profile_cmd,
]

__all__ = ["COMMAND_MODULES", "CommandContext"]
