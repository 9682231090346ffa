"""E-mail notifications in Polish through an outbox.

:func:`queue` adds a message in the caller's transaction (so the notification commits with the
change it announces, or not at all); :class:`Mailer` sends due messages by SMTP in a job, claiming
each row with a conditional update so several hosts never send the same message twice. A failed
SMTP delivery is retried with back-off and never loses the message. With ``smtp.maildir`` set
(the local demo of ``make run``) messages are delivered into that Maildir instead, where
``sekap-trust mail list`` / ``mail show`` read them.

Texts address the citizen without gendered verb forms ("przyjęliśmy", "zgłoś się", never
"otrzymałeś") and give times in Polish local time (Europe/Warsaw).
"""

from __future__ import annotations

import contextlib
import logging
import mailbox
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from core.clock import Clock
from core.db import atomic
from enrollment.models import OutgoingEmail
from enrollment.settings import SMTPSettings

logger = logging.getLogger(__name__)
WARSAW = ZoneInfo("Europe/Warsaw")

SIGNATURE = (
    "\n\n--\nCentrum Certyfikacji SEKAP Trust\nWiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.\n"
)

TEMPLATES: dict[str, tuple[str, str]] = {
    "application_received": (
        "Przyjęliśmy Twój wniosek {reference}",
        "Dzień dobry {name},\n\nprzyjęliśmy Twój wniosek o certyfikat (numer {reference}).\n"
        "Kod śledzenia wniosku: {tracking_code} — z numerem wniosku pozwala sprawdzić jego stan.\n\n"
        "Zgłoś się do punktu certyfikacji: {point}\n"
        "najpóźniej {expires} — po tym terminie wniosek wygaśnie.\n\n"
        "Weź ze sobą:\n{bring}",
    ),
    "application_expired": (
        "Wniosek {reference} wygasł",
        "Dzień dobry {name},\n\nTwój wniosek o certyfikat (numer {reference}) wygasł {at}, "
        "ponieważ nie został potwierdzony w punkcie certyfikacji w wyznaczonym terminie.\n"
        "Aby otrzymać certyfikat, złóż nowy wniosek.",
    ),
    "certificate_issued": (
        "Certyfikat został wydany",
        "Dzień dobry {name},\n\nwydaliśmy Twój certyfikat (numer seryjny {serial}).\n"
        "Jest ważny od {not_before} do {not_after}.\n"
        "Kod unieważnienia został wydany w punkcie certyfikacji — przechowuj go w bezpiecznym miejscu.",
    ),
    "certificate_renewed": (
        "Certyfikat został odnowiony",
        "Dzień dobry {name},\n\nwydaliśmy nowy certyfikat (numer seryjny {serial}) w miejsce dotychczasowego.\n"
        "Jest ważny od {not_before} do {not_after}. Kod unieważnienia pozostaje bez zmian.",
    ),
    "certificate_suspended": (
        "Certyfikat został zawieszony",
        "Dzień dobry {name},\n\nTwój certyfikat (numer seryjny {serial}) został zawieszony {at}.\n"
        "Zawieszenie można cofnąć przez portal lub w punkcie certyfikacji; "
        "po upływie maksymalnego okresu zawieszenia certyfikat zostanie unieważniony.",
    ),
    "certificate_resumed": (
        "Zawieszenie certyfikatu zostało cofnięte",
        "Dzień dobry {name},\n\nTwój certyfikat (numer seryjny {serial}) jest ponownie ważny od {at}.",
    ),
    "certificate_revoked": (
        "Certyfikat został unieważniony",
        "Dzień dobry {name},\n\nTwój certyfikat (numer seryjny {serial}) został unieważniony {at}.\n"
        "Unieważnienie jest ostateczne. Aby otrzymać nowy certyfikat, złóż nowy wniosek.",
    ),
    "expiry_reminder": (
        "Twój certyfikat wygasa za {days} dni",
        "Dzień dobry {name},\n\nTwój certyfikat (numer seryjny {serial}) wygasa {not_after}.\n"
        "Możesz go odnowić przez portal bez wizyty w punkcie (jeśli jest ważny i nie był już odnawiany zdalnie) "
        "albo złożyć nowy wniosek.",
    ),
}


def polish_time(value: datetime) -> str:
    """A moment as a person in Poland reads it: ``04.12.2026, 16:05`` in Europe/Warsaw."""
    return value.astimezone(WARSAW).strftime("%d.%m.%Y, %H:%M")


def point_text(point: Any) -> str:
    """Name, address and, when known, opening hours and phone of a certification point."""
    text = f"{point.name}, {point.street}, {point.postal_code} {point.city}"
    if point.opening_hours:
        text += f" (czynny: {point.opening_hours})"
    if point.phone:
        text += f", tel. {point.phone}"
    return text


def what_to_bring(key_generation: str) -> str:
    """The list for the visit: the identity document, and a pendrive when the key is made at the point."""
    items = ["- dowód osobisty lub paszport (ten sam dokument, który podano we wniosku)"]
    if key_generation == "point":
        items.append("- pendrive, na który zapiszemy plik z kluczem i certyfikatem (PKCS#12)")
    return "\n".join(items)


def render(kind: str, **context: object) -> tuple[str, str]:
    subject, body = TEMPLATES[kind]
    return subject.format(**context), body.format(**context) + SIGNATURE


def queue(clock: Clock, kind: str, to_address: str, **context: object) -> OutgoingEmail:
    """Add a notification to the outbox in the caller's transaction."""
    subject, body = render(kind, **context)
    now = clock.now()
    return OutgoingEmail.create(
        kind=kind, to_address=to_address, subject=subject, body=body, created_at=now, next_attempt_at=now
    )


@dataclass(frozen=True)
class MailRun:
    """What one run of the mail job did, and what is left (honest counts for ``jobs run``)."""

    sent: int
    failed: int
    waiting: int  # queued, to be retried later (after a failure's back-off)
    given_up: int  # failed max_attempts times; kept in the outbox

    def summary(self) -> str:
        return (
            f"{self.sent} e-mail(s) sent, {self.failed} failed, {self.waiting} waiting for a retry, "
            f"{self.given_up} given up"
        )


class Mailer:
    def __init__(self, settings: SMTPSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def run(self) -> MailRun:
        """Send what is due, then count what is still queued."""
        sent, failed = self.send_due()
        unsent = OutgoingEmail.select().where(OutgoingEmail.sent_at.is_null())
        given_up = unsent.where(OutgoingEmail.failed == True).count()  # noqa: E712 - peewee expression
        waiting = unsent.where(OutgoingEmail.failed == False).count()  # noqa: E712
        return MailRun(sent, failed, waiting, given_up)

    def _claim(self, now: datetime) -> list[OutgoingEmail]:
        due = list(
            OutgoingEmail.select()
            .where(
                OutgoingEmail.sent_at.is_null()
                & (OutgoingEmail.failed == False)  # noqa: E712 - peewee expression
                & (OutgoingEmail.next_attempt_at <= now)
                & (OutgoingEmail.claimed_until.is_null() | (OutgoingEmail.claimed_until < now))
            )
            .order_by(OutgoingEmail.id)
            .limit(self.settings.batch_size)
        )
        claimed = []
        lease = now + timedelta(seconds=self.settings.timeout_seconds * 3 + 60)
        for row in due:
            with atomic():
                won = (
                    OutgoingEmail.update(claimed_until=lease)
                    .where(
                        (OutgoingEmail.id == row.id)
                        & OutgoingEmail.sent_at.is_null()
                        & (OutgoingEmail.claimed_until.is_null() | (OutgoingEmail.claimed_until < now))
                    )
                    .execute()
                )
            if won:
                claimed.append(row)
        return claimed

    def _message(self, row: OutgoingEmail) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.settings.from_address
        msg["To"] = row.to_address
        msg["Subject"] = row.subject
        msg["Date"] = format_datetime(row.created_at)
        msg["Message-ID"] = make_msgid(idstring=f"sekap-{row.id}")
        msg.set_content(row.body, charset="utf-8")
        return msg

    def _connect(self) -> smtplib.SMTP | MaildirSink:
        if self.settings.maildir:
            return MaildirSink(self.settings.maildir)
        smtp = smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.settings.timeout_seconds)
        if self.settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if self.settings.username:
            smtp.login(self.settings.username, self.settings.password or "")
        return smtp

    def send_due(self) -> tuple[int, int]:
        """Send what is due; return (sent, failed attempts)."""
        if not self.settings.enabled:
            return 0, 0
        now = self.clock.now()
        rows = self._claim(now)
        if not rows:
            return 0, 0
        sent = failed = 0
        try:
            smtp: smtplib.SMTP | MaildirSink | None = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            smtp = None
            error = type(exc).__name__
            logger.warning("SMTP connection to %s:%s failed: %s", self.settings.host, self.settings.port, error)
        for row in rows:
            if smtp is None:
                self._failed(row, "connection failed")
                failed += 1
                continue
            try:
                smtp.send_message(self._message(row))
            except (OSError, smtplib.SMTPException) as exc:
                self._failed(row, type(exc).__name__)
                failed += 1
                continue
            with atomic():
                OutgoingEmail.update(sent_at=self.clock.now(), claimed_until=None, attempts=row.attempts + 1).where(
                    OutgoingEmail.id == row.id
                ).execute()
            sent += 1
        if smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
        return sent, failed

    def _failed(self, row: OutgoingEmail, error: str) -> None:
        """Back off and retry later; after ``max_attempts`` the message is marked failed (kept)."""
        attempts = row.attempts + 1
        # Exponential back-off from one minute, capped at six hours.
        delay = timedelta(minutes=min(2 ** (attempts - 1), 360))
        with atomic():
            OutgoingEmail.update(
                attempts=attempts,
                last_error=error[:200],
                next_attempt_at=self.clock.now() + delay,
                claimed_until=None,
                failed=attempts >= self.settings.max_attempts,
            ).where(OutgoingEmail.id == row.id).execute()
        logger.warning("e-mail %s not sent (attempt %s): %s", row.id, attempts, error)


class MaildirSink:
    """A local mailbox in place of an SMTP server (``smtp.maildir``): what ``make run`` uses, so the
    demo's e-mails can be read with ``sekap-trust mail list`` / ``mail show``."""

    def __init__(self, path: str) -> None:
        self._box = mailbox.Maildir(path, create=True)

    def send_message(self, message: EmailMessage) -> None:
        self._box.add(message)

    def quit(self) -> None:
        self._box.close()
