"""E-mail notifications in Polish through an outbox.

:func:`queue` adds a message in the caller's transaction (so the notification commits with the
change it announces, or not at all); :class:`Mailer` sends due messages by SMTP in a job, claiming
each row with a conditional update so several hosts never send the same message twice. A failed
SMTP delivery is retried with back-off and never loses the message.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from core.clock import Clock
from core.db import atomic
from enrollment.models import OutgoingEmail
from enrollment.settings import SMTPSettings

logger = logging.getLogger(__name__)

SIGNATURE = (
    "\n\n--\nCentrum Certyfikacji SEKAP Trust\nWiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.\n"
)

TEMPLATES: dict[str, tuple[str, str]] = {
    "application_received": (
        "Przyjęliśmy Twój wniosek {reference}",
        "Dzień dobry {name},\n\nprzyjęliśmy Twój wniosek o certyfikat (numer {reference}).\n"
        "Zgłoś się z dowodem osobistym lub paszportem do punktu certyfikacji: {point}\n"
        "do {expires} — po tym terminie wniosek wygaśnie.",
    ),
    "certificate_issued": (
        "Certyfikat został wydany",
        "Dzień dobry {name},\n\nwydaliśmy Twój certyfikat (numer seryjny {serial}).\n"
        "Jest ważny od {not_before} do {not_after}.\n"
        "Kod unieważnienia otrzymałeś w punkcie certyfikacji — przechowuj go w bezpiecznym miejscu.",
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
    return value.strftime("%d.%m.%Y %H:%M UTC")


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


class Mailer:
    def __init__(self, settings: SMTPSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

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

    def _connect(self) -> smtplib.SMTP:
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
            smtp: smtplib.SMTP | None = self._connect()
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
