"""CRLs (RFC 5280 §5): content, one-pass DER assembly, delta CRLs, numbering, scheduling, HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st

from ca import der
from ca.crl import CRLPublisher, latest
from ca.issuance import IssuancePipeline
from ca.lint import lint_crl
from ca.models import CRL
from ca.revocation import RevocationService
from ca.serials import to_hex
from core.audit import AuditRecord
from core.clock import FrozenClock
from tests.ca.conftest import citizen_request
from tests.pki import TestPKI


@pytest.fixture
def publisher(ca_pki: TestPKI) -> CRLPublisher:
    return CRLPublisher(ca_pki.settings, ca_pki.key_store, ca_pki.clock)


@pytest.fixture
def revoker(ca_pki: TestPKI) -> RevocationService:
    return RevocationService(ca_pki.settings, ca_pki.clock)


def _load(row: CRL) -> x509.CertificateRevocationList:
    return x509.load_der_x509_crl(bytes(row.der))


def _entries(crl: x509.CertificateRevocationList) -> dict[str, x509.RevokedCertificate]:
    return {to_hex(r.serial_number): r for r in crl}


def _clock(pki: TestPKI) -> FrozenClock:
    assert isinstance(pki.clock, FrozenClock)
    return pki.clock


def test_full_crl_content(
    pipeline: IssuancePipeline, publisher: CRLPublisher, revoker: RevocationService, ca_pki: TestPKI
) -> None:
    good, compromised, held, plain = (pipeline.issue(citizen_request(), actor="t").serial for _ in range(4))
    when = _clock(ca_pki).now() - timedelta(days=1)
    revoker.revoke("citizens", compromised, "keyCompromise", actor="t", invalidity_date=when)
    revoker.suspend("citizens", held, actor="t")
    revoker.revoke("citizens", plain, "unspecified", actor="t")
    row = publisher.publish("citizens", actor="t")
    assert row is not None and row.entries == 3 and row.kind == "full"
    crl = _load(row)
    assert crl.is_signature_valid(ca_pki.issuing.public_key())  # type: ignore[arg-type]
    assert crl.issuer == ca_pki.issuing.subject
    assert crl.next_update_utc - crl.last_update_utc == timedelta(hours=24)
    # §5.2.1 AKI and §5.2.3 CRLNumber; §5.2.6 Freshest CRL points at the delta.
    ski = ca_pki.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == ski
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == row.number
    freshest = crl.extensions.get_extension_for_class(x509.FreshestCRL).value
    assert freshest[0].full_name[0].value == "http://pki.sekap-trust.eu/crl/citizens-delta.crl"
    entries = _entries(crl)
    assert set(entries) == {compromised, held, plain}
    assert good not in entries
    ext = entries[compromised].extensions
    assert ext.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert ext.get_extension_for_class(x509.InvalidityDate).value.invalidity_date_utc == when.replace(microsecond=0)
    assert (
        entries[held].extensions.get_extension_for_class(x509.CRLReason).value.reason
        == x509.ReasonFlags.certificate_hold
    )
    # §5.3.1: reasonCode absent rather than unspecified.
    assert len(entries[plain].extensions) == 0
    assert lint_crl(bytes(row.der)) == []
    assert AuditRecord.get(AuditRecord.action == "crl.publish").details["entries"] == 3


def test_expired_certificates_leave_the_crl(
    pipeline: IssuancePipeline, publisher: CRLPublisher, revoker: RevocationService, ca_pki: TestPKI
) -> None:
    serial = pipeline.issue(citizen_request(), actor="t").serial
    revoker.revoke("citizens", serial, "superseded", actor="t")
    assert serial in _entries(_load(publisher.publish("citizens", actor="t")))  # type: ignore[arg-type]
    _clock(ca_pki).advance(days=731)
    assert _load(publisher.publish("citizens", actor="t")).__len__() == 0  # type: ignore[arg-type]


def test_delta_crl_lists_changes_and_remove_from_crl(
    pipeline: IssuancePipeline, publisher: CRLPublisher, revoker: RevocationService, ca_pki: TestPKI
) -> None:
    old, resumed, new = (pipeline.issue(citizen_request(), actor="t").serial for _ in range(3))
    revoker.revoke("citizens", old, "superseded", actor="t")
    revoker.suspend("citizens", resumed, actor="t")
    # Changes within change_margin_seconds before the base's snapshot are repeated in deltas.
    _clock(ca_pki).advance(minutes=1)
    base = publisher.publish("citizens", actor="t")
    assert base is not None
    _clock(ca_pki).advance(minutes=5)
    revoker.resume("citizens", resumed, actor="t")
    revoker.revoke("citizens", new, "keyCompromise", actor="t")
    delta_row = publisher.publish("citizens", kind="delta", actor="t")
    assert delta_row is not None and delta_row.base_number == base.number and delta_row.number > base.number
    delta = _load(delta_row)
    # §5.2.4: critical Delta CRL Indicator naming the base CRL number.
    indicator = delta.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    assert indicator.critical and indicator.value.crl_number == base.number
    entries = _entries(delta)
    assert set(entries) == {resumed, new}
    assert (
        entries[resumed].extensions.get_extension_for_class(x509.CRLReason).value.reason
        == x509.ReasonFlags.remove_from_crl
    )
    assert (
        entries[new].extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    )
    assert lint_crl(bytes(delta_row.der)) == []


def test_numbers_strictly_increase_even_when_the_clock_steps_back(publisher: CRLPublisher, ca_pki: TestPKI) -> None:
    # RFC 5280 §5.2.3: monotonically increasing, shared by full and delta CRLs.
    clock = _clock(ca_pki)
    numbers = []
    for step in (0, -3600, 7200, -86400):
        clock.advance(seconds=step)
        for kind in ("full", "delta"):
            row = publisher.publish("citizens", kind=kind, actor="t")
            assert row is not None
            numbers.append(row.number)
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    root = publisher.publish("root", actor="t")
    assert root is not None and root.number == 1  # each CA has its own sequence
    root_delta = publisher.publish("root", kind="delta", actor="t")
    assert root_delta is not None
    for row in (root, root_delta):  # pkilint RFC 5280 §5: the root's CRLs are clean too
        assert lint_crl(bytes(row.der)) == []


def test_publish_due_schedule(
    pipeline: IssuancePipeline, publisher: CRLPublisher, revoker: RevocationService, ca_pki: TestPKI
) -> None:
    clock = _clock(ca_pki)
    first = publisher.publish_due()
    assert sorted(first) == ["citizens:delta:2", "citizens:full:1", "root:delta:2", "root:full:1"]
    assert publisher.publish_due() == []
    serial = pipeline.issue(citizen_request(), actor="t").serial
    clock.advance(seconds=10)
    revoker.revoke("citizens", serial, "keyCompromise", actor="t")
    # Coalescing: not before publish_within_seconds - job interval (45 s) after the last CRL...
    assert publisher.publish_due() == []
    clock.advance(seconds=36)
    assert sorted(publisher.publish_due()) == ["citizens:delta:4", "citizens:full:3"]
    assert serial in _entries(_load(latest(ca_pki.row("citizens"), "full")))  # type: ignore[arg-type]
    assert publisher.publish_due() == []
    # ...and before half the validity (12 h of 24 h).
    clock.advance(hours=12)
    assert len(publisher.publish_due()) == 4


def test_change_committed_late_within_the_margin_is_caught(
    pipeline: IssuancePipeline, publisher: CRLPublisher, ca_pki: TestPKI
) -> None:
    from ca.models import Certificate

    clock = _clock(ca_pki)
    serial = pipeline.issue(citizen_request(), actor="t").serial
    crl = publisher.publish("citizens", actor="t")
    assert crl is not None
    clock.advance(minutes=5)
    # A revocation stamped before the snapshot but committed after it (a slow transaction).
    Certificate.update(
        revocation_reason="superseded",
        revoked_at=crl.snapshot_at - timedelta(seconds=5),
        status_changed_at=crl.snapshot_at - timedelta(seconds=5),
    ).where(Certificate.serial == serial).execute()
    assert publisher.changed_since(ca_pki.row("citizens"), crl)


def test_served_over_http_with_caching_headers(
    publisher: CRLPublisher, ca_pki: TestPKI, settings, db, key_store
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_client

    client = make_client(settings, ["ca"], db, ca_pki.clock, key_store)  # type: ignore[arg-type]
    assert client.simulate_get("/crl/citizens.crl").status_code == 404
    full = publisher.publish("citizens", actor="t")
    delta = publisher.publish("citizens", kind="delta", actor="t")
    assert full is not None and delta is not None
    resp = client.simulate_get("/crl/citizens.crl")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pkix-crl"
    assert resp.content == bytes(full.der)
    assert resp.headers["etag"] and resp.headers["last-modified"] and resp.headers["expires"]
    assert "max-age=300" in resp.headers["cache-control"]
    again = client.simulate_get("/crl/citizens.crl", headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304
    since = client.simulate_get("/crl/citizens.crl", headers={"If-Modified-Since": resp.headers["last-modified"]})
    assert since.status_code == 304
    d = client.simulate_get("/crl/citizens-delta.crl")
    assert d.status_code == 200 and d.content == bytes(delta.der)
    assert client.simulate_get("/crl/tsa.crl").status_code == 404
    assert client.simulate_get("/crl/nope-delta.crl").status_code == 404


# -- the DER helpers against asn1crypto ---------------------------------------------------------


@given(st.integers(min_value=0, max_value=2**160))
def test_der_integer_matches_asn1crypto(value: int) -> None:
    from asn1crypto.core import Integer

    assert der.integer(value) == Integer(value).dump()
    if value:
        text = to_hex(value)
        assert der.integer_from_hex(text) == Integer(value).dump()


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1)).map(lambda d: d.replace(microsecond=0))
)
def test_der_times_from_both_database_forms(value: datetime) -> None:
    # RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050.
    expected = der.time(value.replace(tzinfo=UTC))
    assert der.time_from_db(value) == expected
    assert der.time_from_db(str(value)) == expected
    assert der.time_from_db(str(value.replace(microsecond=123))) == expected
    assert expected[0] == (0x17 if value.year < 2050 else 0x18)


@given(st.lists(st.integers(min_value=0, max_value=2**40), min_size=2, max_size=8))
def test_der_oid_matches_asn1crypto(arcs: list[int]) -> None:
    from asn1crypto.core import ObjectIdentifier

    arcs[0] %= 3
    if arcs[0] < 2:
        arcs[1] %= 40
    dotted = ".".join(map(str, arcs))
    assert der.oid(dotted) == ObjectIdentifier(dotted).dump()


def test_der_long_lengths() -> None:
    assert der.length(0x7F) == b"\x7f"
    assert der.length(0x80) == b"\x81\x80"
    assert der.length(0x1_0000) == b"\x83\x01\x00\x00"


def test_clock_step_back_neither_floods_nor_delays(
    pipeline: IssuancePipeline, publisher: CRLPublisher, revoker: RevocationService, ca_pki: TestPKI
) -> None:
    clock = _clock(ca_pki)
    publisher.publish_due()
    clock.advance(hours=-1)  # NTP steps the clock back
    assert publisher.publish_due() == []  # no change: no new CRL every run
    serial = pipeline.issue(citizen_request(), actor="t").serial
    revoker.revoke("citizens", serial, "keyCompromise", actor="t")
    done = publisher.publish_due()
    assert "citizens:full:3" in done and "citizens:delta:4" in done  # published at once, numbers still rise
    assert serial in _entries(_load(latest(ca_pki.row("citizens"), "full")))  # type: ignore[arg-type]
