"""The CA's one door (ca.api) and the one status rule set behind it (ca.status)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ca.api import CertificateAuthority, LocalCertificateAuthority
from ca.errors import CertificateNotFoundError, RevocationError
from ca.status import CertStatus, condition_of, relying_party_status
from tests.ca.conftest import citizen_request
from tests.pki import TestPKI

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BEFORE, AFTER = NOW - timedelta(days=1), NOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("state", "reason", "not_before", "not_after", "condition", "ocsp"),
    [
        (None, None, BEFORE, AFTER, "unknown", "unknown"),  # no row: RFC 6960 §2.2, never good
        ("failed", None, BEFORE, AFTER, "unknown", "unknown"),  # never signed
        ("reserved", None, BEFORE, AFTER, "reserved", "unknown"),  # maybe signed: never good
        ("reserved", "keyCompromise", BEFORE, AFTER, "revoked", "revoked"),  # revocable like an issued one
        ("issued", None, BEFORE, AFTER, "valid", "good"),
        ("issued", None, AFTER, AFTER + timedelta(days=1), "not_yet_valid", "good"),
        ("issued", None, BEFORE - timedelta(days=1), BEFORE, "expired", "good"),  # §2.2: status, not validity
        ("issued", "certificateHold", BEFORE, AFTER, "on_hold", "revoked"),  # RFC 5280 §5.3.1 hold
        ("issued", "superseded", BEFORE, AFTER, "revoked", "revoked"),
        ("issued", "keyCompromise", BEFORE - timedelta(days=1), BEFORE, "revoked", "revoked"),
    ],
    ids=lambda v: str(v) if not isinstance(v, datetime) else "",
)
def test_one_rule_set(state, reason, not_before, not_after, condition, ocsp) -> None:  # type: ignore[no-untyped-def]
    assert condition_of(state, reason, not_before, not_after, NOW) == condition
    assert relying_party_status(state, reason, NOW if reason else None, None).kind == ocsp


def test_the_port_issues_changes_and_reads_states(ca_pki: TestPKI) -> None:
    opened: list[int] = []

    def key_store():  # type: ignore[no-untyped-def]
        opened.append(1)
        return ca_pki.key_store

    ca: CertificateAuthority = LocalCertificateAuthority(ca_pki.settings, key_store, ca_pki.clock)
    assert ca.state("citizens", "0A").condition == "unknown" and opened == []  # reading opens no keys
    issued = ca.issue(citizen_request(subject_ref="application:7"), actor="test")
    assert opened == [1]
    serial = issued.serial.lower()  # any case in, canonical out
    state = ca.state("citizens", serial)
    assert (state.condition, state.serial, state.subject_ref) == ("valid", issued.serial, "application:7")
    assert state.relying_party == CertStatus("good")
    held = ca.suspend("citizens", serial, actor="test")
    assert held.condition == "on_hold" and held.reason == "certificateHold" and held.revoked_at == ca_pki.clock.now()
    assert ca.resume("citizens", serial, actor="test").condition == "valid"
    revoked = ca.revoke("citizens", serial, "superseded", actor="test")
    assert revoked.condition == "revoked" and revoked.relying_party.kind == "revoked"
    with pytest.raises(RevocationError):
        ca.suspend("citizens", serial, actor="test")
    with pytest.raises(CertificateNotFoundError):
        ca.revoke("citizens", "0BAD", "superseded", actor="test")
    assert ca.certificate("citizens", serial) == issued.certificate
    assert ca.certificate("citizens", "0BAD") is None
    assert [s.serial for s in ca.certificates_of("application:7")] == [issued.serial]
    assert ca.certificates_of("application:8") == []
    chain = ca.chain("citizens")
    assert chain == [ca_pki.issuing, ca_pki.root]
    issued.certificate.verify_directly_issued_by(chain[0])


def test_expiry_is_seen_from_the_clock(ca_pki: TestPKI) -> None:
    ca = LocalCertificateAuthority(ca_pki.settings, lambda: ca_pki.key_store, ca_pki.clock)
    issued = ca.issue(citizen_request(), actor="test")
    ca_pki.clock.advance(days=731)
    state = ca.state("citizens", issued.serial)
    assert state.condition == "expired" and state.relying_party.kind == "good"
