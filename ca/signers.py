"""Automatic renewal of the delegated OCSP signers (RFC 6960 §4.2.2.2).

The signer of CA ``X`` is the authority ``X-ocsp``. When its certificate is within
``ca.ocsp_signer.renew_before_days`` of expiry, a new key is generated in the key store, a new
certificate is issued through the pipeline with the ``ocsp-signer`` profile, and the authority
row is switched to it (``updated_at`` changes, which the OCSP responder watches). Several hosts
may run this at once: the switch is a conditional update on the old serial, and a loser revokes
its own superfluous certificate as superseded.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from ca.hierarchy import load_certificate
from ca.issuance import IssuancePipeline, IssuedCertificate
from ca.models import Authority
from ca.revocation import RevocationService
from ca.settings import CASettings
from ca.x509util import key_hash_sha1
from core import audit
from core.clock import Clock
from core.db import atomic
from hsm.base import KeySpec, KeyStore

logger = logging.getLogger(__name__)
ACTOR = "system:ocsp-signer-renewal"


def due_signers(settings: CASettings, clock: Clock) -> list[Authority]:
    horizon = clock.now() + timedelta(days=settings.ocsp_signer.renew_before_days)
    cas = [row.name for row in Authority.select().where(Authority.role.in_(("root", "issuing")))]
    return list(
        Authority.select()
        .where(
            (Authority.role == "ocsp")
            & Authority.name.in_([f"{n}-ocsp" for n in cas])
            & (Authority.not_after <= horizon)
        )
        .order_by(Authority.id)
    )


def renew_ocsp_signers(settings: CASettings, key_store: KeyStore, clock: Clock, *, actor: str = ACTOR) -> list[str]:
    """Renew every OCSP signer that is due; returns the names renewed."""
    renewed = []
    for signer in due_signers(settings, clock):
        if renew_signer(settings, key_store, clock, signer, actor=actor):
            renewed.append(signer.name)
    return renewed


def renew_signer(
    settings: CASettings, key_store: KeyStore, clock: Clock, signer: Authority, *, actor: str = ACTOR
) -> bool:
    """Give ``signer`` a new key and certificate; False (and the spare certificate revoked) when
    another host renewed it first."""
    ca_name = signer.name[: -len("-ocsp")]
    old_serial = signer.serial
    label = f"{signer.name}-{clock.now():%Y%m%dT%H%M%S%f}"
    key = key_store.generate(label, KeySpec(settings.ocsp_signer.algorithm))
    with atomic():
        audit.record(
            clock,
            actor=actor,
            action="key.generate",
            object_type="key",
            object_id=label,
            details={"algorithm": settings.ocsp_signer.algorithm, "role": "ocsp"},
        )
    subject = load_certificate(signer).subject
    issued = IssuancePipeline(settings, key_store, clock).issue_named(
        "ocsp-signer",
        subject,
        key.public_key(),
        actor=actor,
        issuer=ca_name,  # type: ignore[arg-type]
        validity_days=settings.ocsp_signer.validity_days,
        subject_ref=f"authority:{signer.name}",
    )
    switched = _switch(clock, signer, old_serial, label, issued, actor=actor)
    if not switched:
        # Another host renewed first: this certificate is never used.
        RevocationService(settings, clock).revoke(ca_name, issued.serial, "superseded", actor=actor)
        logger.info("OCSP signer %s was renewed elsewhere; revoked the spare certificate", signer.name)
        return False
    logger.info("renewed OCSP signer %s: serial %s until %s", signer.name, issued.serial, issued.not_after.isoformat())
    return True


def _switch(
    clock: Clock, signer: Authority, old_serial: str, label: str, issued: IssuedCertificate, *, actor: str
) -> bool:
    """Point the signer at the new key and certificate unless it changed meanwhile (another host)."""
    with atomic():
        switched = (
            Authority.update(
                key_label=label,
                certificate_der=issued.der,
                serial=issued.serial,
                subject=issued.certificate.subject.rfc4514_string(),
                not_before=issued.not_before,
                not_after=issued.not_after,
                fingerprint_sha256=issued.fingerprint_sha256,
                key_hash_sha1=key_hash_sha1(issued.certificate.public_key()),
                updated_at=clock.now(),
            )
            .where((Authority.id == signer.id) & (Authority.serial == old_serial))
            .execute()
        )
        if switched:
            audit.record(
                clock,
                actor=actor,
                action="authority.renew",
                object_type="authority",
                object_id=signer.name,
                details={
                    "old_serial": old_serial,
                    "serial": issued.serial,
                    "key_label": label,
                    "not_after": issued.not_after.isoformat(),
                },
            )
    return bool(switched)
