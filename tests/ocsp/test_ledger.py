"""Every live OCSP signature accounted for (issue 15 item 5): counted per signer per minute with a
digest over the responses, written to the database by the process's ledger; cached answers and
unsigned errors are not signatures and are not counted."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import peewee as pw

from config.settings import Settings
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from ocsp.directory import IssuerDirectory
from ocsp.ledger import OCSPSignatureCount, live_signatures_since
from ocsp.service import OCSPService
from tests.ocsp.helpers import issue, request_der
from tests.pki import TestPKI


def test_live_signatures_are_counted_per_signer_and_minute(
    settings: Settings, pki: TestPKI, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore
) -> None:
    service = OCSPService(settings.ocsp, clock, IssuerDirectory(key_store.find, refresh_seconds=0))
    cert = issue(pki, clock)
    answers = [service.handle(request_der(pki.issuing, cert.serial_number, nonce=bytes([i]) * 16)) for i in range(3)]
    assert all(a.source == "live" for a in answers)
    assert service.handle(b"garbage").source == "error"  # unsigned malformedRequest: not a signature
    assert service.ledger.flush() == 1
    row = OCSPSignatureCount.get()
    assert (row.signer, row.count) == ("citizens-ocsp", 3)
    expected = hashlib.sha256(b"".join(hashlib.sha256(a.der).digest() for a in answers)).hexdigest()
    assert row.digest == expected  # the responses signed are exactly these
    clock.advance(timedelta(minutes=1))
    service.handle(request_der(pki.issuing, cert.serial_number, nonce=b"x" * 16))
    service.ledger.flush()
    assert OCSPSignatureCount.select().count() == 2
    assert live_signatures_since(clock.now() - timedelta(hours=1)) == {"citizens-ocsp": 4}
    # Finished minutes are forgotten in memory once written; a flush again rewrites only the open one.
    assert service.ledger.flush() == 1
