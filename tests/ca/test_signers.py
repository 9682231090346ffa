"""Automatic renewal of the delegated OCSP signers (RFC 6960 §4.2.2.2; interfaces.md: the
authority ``X-ocsp`` is switched to the new certificate and ``updated_at`` changes)."""

from __future__ import annotations

from datetime import timedelta

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ca.hierarchy import authority, load_certificate
from ca.lint import lint_certificate
from ca.models import Certificate
from ca.signers import renew_ocsp_signers, renew_signer
from ca.status import status_of
from core.audit import AuditRecord, verify_chain
from core.clock import FrozenClock
from tests.pki import TestPKI


def test_nothing_due_on_a_fresh_hierarchy(ca_pki: TestPKI) -> None:
    assert renew_ocsp_signers(ca_pki.settings, ca_pki.key_store, ca_pki.clock) == []


def test_signers_renewed_within_renew_before_days(ca_pki: TestPKI) -> None:
    clock = ca_pki.clock
    assert isinstance(clock, FrozenClock)
    old = {name: authority(name) for name in ("root-ocsp", "citizens-ocsp")}
    # validity 30 days, renew_before_days 10 → due from day 20.
    clock.advance(days=19)
    assert renew_ocsp_signers(ca_pki.settings, ca_pki.key_store, clock) == []
    clock.advance(days=1, minutes=10)
    assert renew_ocsp_signers(ca_pki.settings, ca_pki.key_store, clock) == ["root-ocsp", "citizens-ocsp"]
    for name, before in old.items():
        row = authority(name)
        assert row.serial != before.serial and row.key_label != before.key_label and row.updated_at == clock.now()
        cert = load_certificate(row)
        cert.verify_directly_issued_by(load_certificate(authority(name[: -len("-ocsp")])))
        assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
            ExtendedKeyUsageOID.OCSP_SIGNING
        ]
        cert.extensions.get_extension_for_class(x509.OCSPNoCheck)
        assert cert.subject == load_certificate(before).subject
        assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=30)
        assert ca_pki.key_store.public_key(row.key_label).public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
        assert lint_certificate(bytes(row.certificate_der)) == []
        # The old certificate stays on record.
        assert Certificate.select().where(Certificate.serial == before.serial).exists()
        assert status_of(authority(name[: -len("-ocsp")]), int(row.serial, 16)).kind == "good"
    assert AuditRecord.select().where(AuditRecord.action == "authority.renew").count() == 2
    assert verify_chain().ok
    assert renew_ocsp_signers(ca_pki.settings, ca_pki.key_store, clock) == []


def test_losing_a_race_revokes_the_spare_certificate(ca_pki: TestPKI) -> None:
    clock = ca_pki.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(days=25)
    stale = authority("citizens-ocsp")  # both "hosts" read the row before either switched
    assert renew_signer(ca_pki.settings, ca_pki.key_store, clock, stale)
    winner = authority("citizens-ocsp").serial
    clock.advance(seconds=1)
    assert not renew_signer(ca_pki.settings, ca_pki.key_store, clock, stale)
    assert authority("citizens-ocsp").serial == winner
    spare = (
        Certificate.select()
        .where((Certificate.profile == "ocsp-signer") & Certificate.revocation_reason.is_null(False))
        .get()
    )
    assert spare.revocation_reason == "superseded"
