"""Crashed issuances are surfaced and resolved (issue 15 item 5): a reservation left between
signing and storing is reported by `audit reconcile` and the ca.reconcile job, and an
administrator revokes it (and publishes) or marks it failed with evidence."""

from __future__ import annotations

import io
from datetime import timedelta

import peewee as pw
import pytest
from cryptography import x509

from ca.issuance import IssuancePipeline
from ca.models import CRL, Certificate
from config import cli
from config.runtime import Runtime
from config.settings import Settings
from config.wiring.ca import reconcile_job
from core.audit import AuditRecord
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.ca.conftest import citizen_request
from tests.pki import build_pki


class Crash(Exception):
    pass


@pytest.fixture
def runtime(settings: Settings, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore) -> Runtime:
    build_pki(clock, key_store, settings.ca)
    return Runtime(settings, clock, key_store)


def _crashed_issuance(runtime: Runtime) -> Certificate:
    def crash(certificate: object) -> None:
        raise Crash  # the process dies after the HSM signed, before the certificate is stored

    pipeline = IssuancePipeline(runtime.settings.ca, runtime.key_store, runtime.clock, after_sign=crash)
    with pytest.raises(Crash):
        pipeline.issue(citizen_request(), actor="test:officer")
    return Certificate.get(Certificate.state == "reserved")


def run(runtime: Runtime, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return cli.main(list(argv), out=out, runtime=runtime), out.getvalue()


def test_stale_reservation_is_reported_then_revoked_and_published(runtime: Runtime, clock: FrozenClock) -> None:
    row = _crashed_issuance(runtime)
    assert run(runtime, "audit", "reconcile")[0] == 0  # fresh: may still be in flight
    clock.advance(timedelta(minutes=6))
    code, out = run(runtime, "audit", "reconcile")
    assert code == 1 and f"STALE reservation citizens:{row.serial}" in out
    assert reconcile_job(runtime).summary == "1 stale reservation(s)"
    code, out = run(runtime, "cert", "resolve-reservation", row.serial, "--revoke")
    assert code == 0 and "published CRL citizens" in out, out
    crl = x509.load_der_x509_crl(bytes(CRL.select().where(CRL.kind == "full").order_by(CRL.number.desc()).get().der))
    assert int(row.serial, 16) in {e.serial_number for e in crl}
    assert run(runtime, "audit", "reconcile")[0] == 0
    assert AuditRecord.get(AuditRecord.action == "ca.reservation.resolve").details["resolution"] == "revoked"


def test_stale_reservation_marked_failed_needs_evidence(runtime: Runtime, clock: FrozenClock) -> None:
    row = _crashed_issuance(runtime)
    clock.advance(timedelta(minutes=6))
    assert run(runtime, "cert", "resolve-reservation", row.serial, "--failed")[0] != 0
    code, _ = run(
        runtime,
        "cert",
        "resolve-reservation",
        row.serial,
        "--failed",
        "--evidence",
        "HSM log: sign call returned an error",
    )
    assert code == 0
    assert Certificate.get_by_id(row.id).state == "failed"
    assert run(runtime, "audit", "reconcile")[0] == 0
