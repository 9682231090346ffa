from __future__ import annotations

from pathlib import Path

import pytest

from core.clock import FrozenClock
from epackage.timestamp import request_der
from hsm.software import SoftwareKeyStore
from tests.pki import TestPKI
from tests.tsa.conftest import AlwaysSynced, make_service
from tests.verifier.helpers import Citizen, issue_citizen
from tsa import TimeStampService, parse_query


@pytest.fixture
def vpki(pki: TestPKI, clock: FrozenClock) -> TestPKI:
    clock.advance(days=10)
    return pki


@pytest.fixture
def citizen(vpki: TestPKI, tmp_path: Path) -> Citizen:
    return issue_citizen(vpki, tmp_path / "citizen")


class InProcessTSA:
    """Our TSA core called in process through its public API (query DER in, token out)."""

    def __init__(self, service: TimeStampService) -> None:
        self.service = service
        self.calls = 0

    def __call__(self, digest: bytes) -> bytes:
        self.calls += 1
        query = parse_query(request_der(digest, 7), self.service.rules)
        return self.service.issue(query)


@pytest.fixture
def tsa(vpki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore) -> InProcessTSA:
    return InProcessTSA(make_service(vpki, clock, key_store, AlwaysSynced(), require_ntp_sync=True))


__all__ = ["InProcessTSA"]
