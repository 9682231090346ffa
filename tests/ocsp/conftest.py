"""OCSP test fixtures. The clock stands at the real current time (to the second), so responses
can be checked by external tools (openssl, ocsptool, pyhanko) against their own clocks."""

from __future__ import annotations

from datetime import UTC, datetime

import peewee as pw
import pytest
from falcon import testing

from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.conftest import make_client
from tests.pki import TestPKI


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def client(
    settings, pki: TestPKI, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore
) -> testing.TestClient:
    """An OCSP-only app that re-reads CA rows on every request (refresh_seconds = 0)."""
    from dataclasses import replace

    settings = replace(settings, ocsp=replace(settings.ocsp, refresh_seconds=0.0))
    return make_client(settings, ["ocsp"], db, clock, key_store)
