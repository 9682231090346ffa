from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import peewee as pw
import pytest

from config.settings import Settings
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.pki import TestPKI
from tests.verifier.helpers import Citizen, issue_citizen
from verifier.detect import parse_submission
from verifier.report import ValidationReport
from verifier.service import VerificationService
from verifier.settings import VerifierSettings


@pytest.fixture
def vpki(pki: TestPKI, clock: FrozenClock) -> TestPKI:
    """The ceremony's hierarchy, ten days old (so certificates can start in the past)."""
    clock.advance(days=10)
    return pki


@pytest.fixture
def citizen(vpki: TestPKI, tmp_path: Path) -> Citizen:
    return issue_citizen(vpki, tmp_path / "citizen")


@pytest.fixture
def verifier_settings() -> VerifierSettings:
    return VerifierSettings()


@pytest.fixture
def service(
    vpki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore, verifier_settings: VerifierSettings, db: pw.Database
) -> VerificationService:
    return VerificationService(verifier_settings, clock, lambda: key_store)


@pytest.fixture
def verify(service: VerificationService):  # type: ignore[no-untyped-def]
    def run(body: bytes, content_type: str, **kwargs: object) -> ValidationReport:
        return service.verify(parse_submission(content_type, body), **kwargs)  # type: ignore[arg-type]

    return run


@pytest.fixture
def app_settings(settings: Settings, verifier_settings: VerifierSettings) -> Settings:
    return replace(settings, verifier=verifier_settings)
