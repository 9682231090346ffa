"""``sekap-trust mail list|show``: read the local mail sink (``enrollment.smtp.maildir``)."""

from __future__ import annotations

import argparse
import email.policy
import mailbox
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.commands.context import CommandContext

WARSAW = ZoneInfo("Europe/Warsaw")


def register(sub: Any) -> None:
    m = sub.add_parser("mail", help="e-mails delivered to the local mail sink").add_subparsers(
        dest="mail_command", required=True
    )
    ls = m.add_parser("list", help="list delivered e-mails, newest last")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)
    show = m.add_parser("show", help="print one e-mail (its id from `mail list`)")
    show.add_argument("id")
    show.set_defaults(handler=cmd_show)


def _box(ctx: CommandContext) -> mailbox.Maildir | None:
    path = ctx.runtime.settings.enrollment.smtp.maildir
    if not path:
        ctx.print("no local mail sink: enrollment.smtp.maildir is not set (e-mails go to the SMTP server)")
        return None
    if not Path(path).is_dir():
        ctx.print(f"no e-mail delivered yet ({path} does not exist)")
        return None
    return mailbox.Maildir(path, factory=None, create=False)


def _read(box: mailbox.Maildir, key: str) -> EmailMessage:
    parsed = BytesParser(policy=email.policy.default).parsebytes(box.get_bytes(key))
    if not isinstance(parsed, EmailMessage):
        raise TypeError("the default policy parses into EmailMessage")
    return parsed


def _rows(box: mailbox.Maildir) -> list[dict[str, str]]:
    rows = []
    for key in box.iterkeys():
        message = _read(box, key)
        date = parsedate_to_datetime(message["Date"]) if message["Date"] else None
        rows.append(
            {
                "id": key,
                "date": date.astimezone(WARSAW).strftime("%Y-%m-%d %H:%M:%S") if date else "",
                "to": str(message["To"] or ""),
                "subject": str(message["Subject"] or ""),
            }
        )
    return sorted(rows, key=lambda r: (r["date"], r["id"]))


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    box = _box(ctx)
    if box is None:
        return 0
    rows = _rows(box)
    if args.json:
        ctx.print_json(rows)
        return 0
    for row in rows:
        ctx.print(f"{row['id']}  {row['date']}  {row['to']:32}  {row['subject']}")
    ctx.print(f"{len(rows)} e-mail(s) (times Europe/Warsaw)")
    return 0


def cmd_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    box = _box(ctx)
    if box is None:
        return 1
    if args.id not in box:
        ctx.print(f"no e-mail with id {args.id} (see `sekap-trust mail list`)")
        return 1
    message = _read(box, args.id)
    for header in ("From", "To", "Date", "Subject"):
        ctx.print(f"{header}: {message[header]}")
    ctx.print("")
    body = message.get_body(preferencelist=("plain",))
    ctx.print(body.get_content() if body is not None else "")
    return 0
