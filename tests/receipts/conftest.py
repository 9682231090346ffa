from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from config.settings import Settings
from core.auth import Principal
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from receipts.service import ReceiptService
from receipts.settings import ReceiptsSettings
from receipts.timestamping import InProcessTimestamper
from tests.conftest import make_client
from tests.pki import TestPKI
from tests.tsa.conftest import AlwaysSynced, make_service
from tests.verifier.helpers import Citizen, PrincipalMiddleware, issue_citizen
from verifier.detect import parse_submission
from verifier.service import VerificationService
from verifier.settings import VerifierSettings

PORTAL = Principal("portal", "7", scopes=frozenset({"receipts", "verify"}))
OTHER_PORTAL = Principal("portal", "8", scopes=frozenset({"receipts"}))
PACKAGE = b"PK\x03\x04 pretend this is the delivered e-package"


def upp_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recipient": {"name": "Urząd Gminy Przykładowo", "identifier": "192598184", "identifier_type": "REGON"},
        "sender": {"name": "Jan Testowy"},
        "submission_number": "56725",
        "subject": "Wniosek o wydanie zaświadczenia",
        "package_sha256": hashlib.sha256(PACKAGE).hexdigest(),
        "package_size": len(PACKAGE),
    }
    body.update(overrides)
    return body


@pytest.fixture
def vpki(pki: TestPKI, clock: FrozenClock) -> TestPKI:
    clock.advance(days=10)
    return pki


@pytest.fixture
def citizen(vpki: TestPKI, tmp_path: Path) -> Citizen:
    return issue_citizen(vpki, tmp_path / "citizen")


@pytest.fixture
def receipt_service(vpki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore, db: Any) -> ReceiptService:
    tsa = make_service(vpki, clock, key_store, AlwaysSynced(), require_ntp_sync=True)
    verifier = VerificationService(VerifierSettings(), clock, lambda: key_store)
    return ReceiptService(
        ReceiptsSettings(),
        clock,
        lambda: key_store,
        InProcessTimestamper(tsa),
        lambda data, media_type: verifier.verify(parse_submission(media_type, data)),
    )


@pytest.fixture
def client(
    settings: Settings, db: Any, clock: FrozenClock, key_store: SoftwareKeyStore, vpki: TestPKI
) -> testing.TestClient:
    # The test machine's clock need not be NTP-synchronised; the TSA's guard is tested in tests/tsa.
    settings = replace(settings, tsa=replace(settings.tsa, require_ntp_sync=False))
    client = make_client(settings, ["receipts", "verifier"], db, clock, key_store)
    client.app.add_middleware(PrincipalMiddleware(PORTAL))
    return client
