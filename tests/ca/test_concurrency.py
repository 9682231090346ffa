"""Eight processes issuing, revoking and publishing CRLs at once against PostgreSQL: no duplicate
serial, CRL numbers unique and strictly increasing (RFC 5280 §5.2.3), nothing lost."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import peewee as pw
import pytest
from cryptography import x509

from ca.crl import CRLPublisher, latest
from ca.models import CRL, Certificate
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.conftest import POSTGRES_URL
from tests.pki import TestPKI

PROCESSES = 8
PER_PROCESS = 6


def _worker(db_url: str, keys: str, start: float) -> tuple[list[str], list[str], list[int]]:
    from datetime import UTC, datetime

    from ca.issuance import IssuancePipeline
    from ca.revocation import RevocationService
    from core import db as core_db
    from tests.ca.conftest import PUBLIC, citizen_request

    database = core_db.open_database(db_url)
    core_db.bind(database)
    database.connect()
    clock = FrozenClock(datetime.fromtimestamp(start, UTC))
    store = SoftwareKeyStore(keys, b"test-passphrase")
    pipeline = IssuancePipeline(PUBLIC, store, clock)
    revoker = RevocationService(PUBLIC, clock)
    publisher = CRLPublisher(PUBLIC, store, clock)
    issued, revoked, numbers = [], [], []
    for i in range(PER_PROCESS):
        clock.advance(seconds=1)
        serial = pipeline.issue(citizen_request(), actor="test:worker").serial
        issued.append(serial)
        if i % 2 == 0:
            revoker.revoke("citizens", serial, "keyCompromise", actor="test:worker")
            revoked.append(serial)
            # Clock steps between processes: each one's clock differs; numbers must still rise.
            row = publisher.publish("citizens", kind="full" if i % 4 == 0 else "delta", actor="test:worker")
            assert row is not None
            numbers.append(row.number)
    database.close()
    return issued, revoked, numbers


@pytest.mark.postgres
@pytest.mark.slow
def test_eight_processes_issue_revoke_and_publish(
    ca_pki: TestPKI, db: pw.Database, key_store: SoftwareKeyStore
) -> None:
    assert POSTGRES_URL
    publisher = CRLPublisher(ca_pki.settings, ca_pki.key_store, ca_pki.clock)
    assert publisher.publish("citizens", actor="t") is not None  # base for the deltas
    db.close()
    keys = str(Path(key_store._dir))  # the same software store directory, opened by each process
    start = ca_pki.clock.now().timestamp()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        # Different start times per process: their clocks disagree by up to ±1 hour.
        results = pool.starmap(_worker, [(POSTGRES_URL, keys, start + (k - 4) * 900) for k in range(PROCESSES)])
    db.connect()
    issued = [s for r in results for s in r[0]]
    revoked = {s for r in results for s in r[1]}
    assert len(issued) == len(set(issued)) == PROCESSES * PER_PROCESS
    rows = list(Certificate.select().where(Certificate.profile == "citizen"))
    assert len(rows) == len(issued) and all(r.state == "issued" for r in rows)
    for r in results:
        assert r[2] == sorted(r[2]) and len(set(r[2])) == len(r[2])  # each process saw rising numbers
    numbers = [
        row.number for row in CRL.select(CRL.number).where(CRL.issuer == ca_pki.row("citizens")).order_by(CRL.id)
    ]
    assert numbers == list(range(1, len(numbers) + 1))  # unique, gap-free, in commit order
    final = publisher.publish("citizens", actor="t")
    assert final is not None and final.number == len(numbers) + 1
    listed = {f"{e.serial_number:X}".zfill(len(next(iter(revoked)))) for e in x509.load_der_x509_crl(bytes(final.der))}
    assert {s.lstrip("0") for s in revoked} == {s.lstrip("0") for s in listed}
    assert latest(ca_pki.row("citizens"), "full") is not None
