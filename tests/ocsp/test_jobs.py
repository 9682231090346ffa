"""The pre-signing job (RFC 5019 §4 refresh before half validity; DESIGN "OCSP")."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cryptography.x509 import ocsp as x509_ocsp

from ca.hierarchy import authority
from ca.serials import to_hex
from core.audit import AuditRecord
from ocsp import cache
from ocsp.directory import IssuerDirectory
from ocsp.jobs import presign
from ocsp.models import OCSPResponse
from ocsp.responder import cert_id_for
from tests.ocsp.helpers import issue, load, set_status, verify_signature


def _run(settings, clock, key_store, **kwargs):  # type: ignore[no-untyped-def]
    return presign(settings.ocsp, clock, IssuerDirectory(key_store.find, refresh_seconds=0), **kwargs)


def _row(cert, issuer: str = "citizens") -> OCSPResponse:  # type: ignore[no-untyped-def]
    return OCSPResponse.get(
        (OCSPResponse.issuer == authority(issuer)) & (OCSPResponse.serial == to_hex(cert.serial_number))
    )


def test_signs_every_valid_certificate_once(pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    certs = [issue(pki, clock) for _ in range(7)]
    report = _run(settings, clock, key_store)
    # The CA's own delegated signer certificate (citizens-ocsp) is one of its certificates too.
    assert report.signed["citizens"] == 7 + 1
    assert report.complete
    for cert in certs:
        row = _row(cert)
        response = load(bytes(row.der))
        assert response.serial_number == cert.serial_number
        assert response.certificate_status == x509_ocsp.OCSPCertStatus.GOOD
        assert response.hash_algorithm.name == "sha1"  # RFC 5019 §2.1.1
        verify_signature(response, pki.cert("citizens-ocsp"))
        assert row.next_update == row.this_update + timedelta(hours=settings.ocsp.validity_hours)
    assert _run(settings, clock, key_store).total == 0  # idempotent


def test_status_change_resigned(pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    cert = issue(pki, clock)
    _run(settings, clock, key_store)
    clock.advance(minutes=1)
    set_status(cert, reason="keyCompromise", at=clock.now())
    assert _run(settings, clock, key_store).signed["citizens"] == 1
    assert load(bytes(_row(cert).der)).certificate_status == x509_ocsp.OCSPCertStatus.REVOKED


def test_refresh_past_half_validity(pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    """RFC 5019 §4 / CA/B BR §4.9.10: refreshed before half the validity has passed... and not earlier."""
    issue(pki, clock)
    first = _run(settings, clock, key_store).total
    half = timedelta(hours=settings.ocsp.validity_hours) / 2
    clock.advance(half - timedelta(seconds=1))
    assert _run(settings, clock, key_store).total == 0
    clock.advance(seconds=2)
    assert _run(settings, clock, key_store).total == first


def test_batches_and_budget(pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    """Streaming in batches; a run stops at its budget and the next run continues."""
    for _ in range(12):
        issue(pki, clock)
    small = replace(settings, ocsp=replace(settings.ocsp, presign_batch_size=5, presign_max_per_run=5))
    totals = []
    while True:
        report = _run(small, clock, key_store)
        totals.append(report.total)
        if report.complete and report.total == 0:
            break
    assert sum(totals) >= 12
    assert max(totals) <= 5
    assert AuditRecord.select().where(AuditRecord.action == "ocsp.presign").count() >= 3


def test_expired_and_failed_skipped(pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    short = issue(pki, clock, days=1)
    failed = issue(pki, clock, state="failed")
    clock.advance(days=2)
    _run(settings, clock, key_store)
    assert (
        not OCSPResponse.select()
        .where(OCSPResponse.serial.in_([to_hex(short.serial_number), to_hex(failed.serial_number)]))
        .exists()
    )


def test_upsert_keeps_newest_read(pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    """Two hosts: an answer read earlier never replaces one read later."""
    cert = issue(pki, clock)
    _run(settings, clock, key_store)
    newer = _row(cert)
    older = cache.PresignedRow(
        newer.issuer_id,
        newer.serial,
        b"older",
        newer.produced_at - timedelta(seconds=5),
        newer.this_update,
        newer.next_update,
        newer.signer_serial,
        None,
        None,
        "good",
    )
    cache.store([older])
    assert bytes(_row(cert).der) == bytes(newer.der)


def test_two_hosts_converge(pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        issue(pki, clock)
    a = _run(settings, clock, key_store)
    b = _run(settings, clock, key_store)
    assert a.total >= 4 and b.total == 0
    assert OCSPResponse.select().count() == a.total


def test_signer_renewal_resigns(pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    cert = issue(pki, clock)
    _run(settings, clock, key_store)
    OCSPResponse.update(signer_serial="00").execute()
    assert _run(settings, clock, key_store).signed["citizens"] >= 1
    assert _row(cert).signer_serial == pki.row("citizens-ocsp").serial


def test_cert_id_matches_client(pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    cert = issue(pki, clock)
    _run(settings, clock, key_store)
    response = load(bytes(_row(cert).der))
    expected = cert_id_for(pki.issuing, cert.serial_number)
    assert (response.issuer_name_hash, response.issuer_key_hash) == (
        expected.issuer_name_hash,
        expected.issuer_key_hash,
    )


def test_job_registered(pki, clock, settings, key_store) -> None:  # type: ignore[no-untyped-def]
    from config.jobs import JOBS, run_once
    from config.runtime import Runtime

    issue(pki, clock)
    assert "ocsp.presign" in JOBS
    summary = run_once(Runtime(settings, clock, key_store), ["ocsp.presign"])["ocsp.presign"].summary
    assert summary.startswith("signed ")
    assert "citizens=2" in summary  # the certificate and the OCSP signer's
