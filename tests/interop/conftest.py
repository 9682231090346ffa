from __future__ import annotations

from pathlib import Path

import pytest

from core.clock import FrozenClock
from tests.pki import TestPKI
from tests.verifier.conftest import service, verifier_settings, verify  # noqa: F401
from tests.verifier.helpers import Citizen, issue_citizen


@pytest.fixture
def vpki(pki: TestPKI, clock: FrozenClock) -> TestPKI:
    clock.advance(days=10)
    return pki


@pytest.fixture
def citizen(vpki: TestPKI, tmp_path: Path) -> Citizen:
    return issue_citizen(vpki, tmp_path / "citizen")
