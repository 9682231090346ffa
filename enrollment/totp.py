"""Officers' second factor: TOTP (RFC 6238, 30-second steps, 6 digits) with pyotp.

An officer enrols once: the console shows a QR code with a fresh secret (every showing makes a new
one, so an earlier picture is useless), and the first correct code confirms it. After that every
log-in on the pages needs a code; a code (its time step) is accepted only once (RFC 6238 §5.2).
An administrator resets a lost factor with ``sekap-trust officer totp-reset``; the officer then
enrols again at the next log-in.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw
import pyotp
import qrcode
import qrcode.image.svg

from access.models import Officer
from core import audit
from core.clock import Clock
from core.db import BaseModel, UTCDateTimeField, atomic, lock_row

ISSUER = "Centrum Certyfikacji SEKAP"
# One step either side: a phone clock a little off still works (RFC 6238 §5.2 recommends at most one).
VALID_WINDOW = 1


class OfficerTOTP(BaseModel):
    officer = pw.ForeignKeyField(Officer, unique=True, on_delete="CASCADE")
    # The shared secret (base32). Like the password hash it never leaves the server after enrolment.
    secret = pw.CharField(max_length=64)
    created_at = UTCDateTimeField()
    confirmed_at = UTCDateTimeField(null=True)
    last_step = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "enrollment_officer_totp"


MODELS: tuple[type[pw.Model], ...] = (OfficerTOTP,)


@dataclass(frozen=True)
class Enrolment:
    secret: str  # shown once, as text beside the QR code
    qr_svg: bytes


class SecondFactor:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def enrolled(self, officer_id: int) -> bool:
        return bool(
            OfficerTOTP.select()
            .where((OfficerTOTP.officer == officer_id) & OfficerTOTP.confirmed_at.is_null(False))
            .exists()
        )

    def start_enrolment(self, officer_id: int) -> Enrolment:
        """A new secret for an officer without a confirmed factor (replacing an unconfirmed one)."""
        username = Officer.get_by_id(officer_id).username
        secret = pyotp.random_base32()
        now = self.clock.now()
        with atomic():
            row = lock_row(OfficerTOTP.select().where(OfficerTOTP.officer == officer_id)).first()
            if row is not None and row.confirmed_at is not None:
                raise PermissionError("already enrolled")
            if row is None:
                OfficerTOTP.create(officer=officer_id, secret=secret, created_at=now)
            else:
                OfficerTOTP.update(secret=secret, created_at=now, last_step=0).where(OfficerTOTP.id == row.id).execute()
        uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
        image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
        return Enrolment(secret, image.to_string())

    def confirm(self, officer_id: int, code: str) -> bool:
        """The first correct code makes the factor active (audited)."""
        return self._check(officer_id, code, confirming=True)

    def verify(self, officer_id: int, code: str) -> bool:
        return self._check(officer_id, code, confirming=False)

    def _check(self, officer_id: int, code: str, *, confirming: bool) -> bool:
        code = code.replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            return False
        now = self.clock.now()
        with atomic():
            row = lock_row(OfficerTOTP.select().where(OfficerTOTP.officer == officer_id)).first()
            if row is None or (row.confirmed_at is None) != confirming:
                return False
            totp = pyotp.TOTP(row.secret)
            step = _matching_step(totp, code, int(now.timestamp()))
            if step is None or step <= row.last_step:
                return False  # wrong, or a code already used (replay)
            changes: dict[str, object] = {"last_step": step}
            if confirming:
                changes["confirmed_at"] = now
                audit.record(
                    self.clock,
                    actor=f"officer:{officer_id}",
                    action="enrollment.totp.enrol",
                    object_type="enrollment_officer",
                    object_id=officer_id,
                )
            OfficerTOTP.update(**changes).where(OfficerTOTP.id == row.id).execute()
        return True

    def reset(self, officer_id: int, *, actor: str) -> bool:
        with atomic():
            removed = OfficerTOTP.delete().where(OfficerTOTP.officer == officer_id).execute()
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.totp.reset",
                object_type="enrollment_officer",
                object_id=officer_id,
                details={"removed": bool(removed)},
            )
        return bool(removed)


def _matching_step(totp: pyotp.TOTP, code: str, at: int) -> int | None:
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        moment = at + offset * totp.interval
        if totp.verify(code, for_time=moment, valid_window=0):
            return int(moment // totp.interval)
    return None
