"""Fault test with real processes (issue 15 item 9): an issuing process is killed with SIGKILL at
each step of issuance (reserved, linted, signed, stored), then the service "restarts" (a new
process issues again): nothing is lost, no serial is duplicated, OCSP is never ``good`` for a
certificate whose issuance did not finish storing it, and the crash is surfaced as a stale
reservation (`audit reconcile`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee as pw
import pytest

from ca import reconcile
from ca.models import Certificate
from ca.status import certificate_state
from core.clock import FrozenClock
from tests.pki import build_pki, software_store

ROOT = Path(__file__).resolve().parents[2]
STEPS = {
    "reserved": "_reserve_fresh_serial",
    "linted": "_lint_or_refuse",
    "signed": "_sign_and_check",
    "stored": "_store",
}
ISSUER = textwrap.dedent(
    """
    import os, signal, sys
    from ca.issuance import IssuancePipeline, IssueRequest, SubjectIdentity
    from ca.settings import CASettings
    from core import db
    from cryptography.hazmat.primitives.asymmetric import ec
    from hsm.software import SoftwareKeyStore
    from core.clock import SystemClock

    url, keys, step, ref = sys.argv[1:5]
    db.bind(db.open_database(url))
    pipeline = IssuancePipeline(CASettings(), SoftwareKeyStore(keys, b"test-passphrase"), SystemClock())
    if step != "none":
        original = getattr(IssuancePipeline, step)

        def killed(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)  # the step is done; the process dies before the next
            return result

        setattr(IssuancePipeline, step, killed)
    subject = SubjectIdentity(given_name="Jan", surname="Kowalski", id_card="ABA300000")
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    request = IssueRequest(profile="citizen", subject=subject, public_key=key, subject_ref=ref)
    with db.connection():
        issued = pipeline.issue(request, actor="test:fault")
    print(issued.serial)
    """
)


def _issue_in_process(db_url: str, keys: Path, step: str, ref: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ISSUER, db_url, str(keys), step, ref],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_sigkill_at_each_issuance_step_then_restart(db: pw.Database, db_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    build_pki(FrozenClock(datetime.now(UTC) - timedelta(minutes=5)), software_store(keys))
    for name, method in STEPS.items():
        died = _issue_in_process(db_url, keys, method, f"fault:{name}")
        assert died.returncode == -signal.SIGKILL, (name, died.stderr[-2000:])
        rows = list(Certificate.select().where(Certificate.subject_ref == f"fault:{name}"))
        if name in ("reserved", "linted", "signed"):
            # The intent is kept (nothing lost) but the certificate was never stored or delivered.
            assert [r.state for r in rows] == ["reserved"], name
            state = certificate_state("citizens", rows[0].serial, datetime.now(UTC))
            assert state.relying_party.kind != "good", name  # RFC 6960: never good for it
        else:
            # Killed after storing: the certificate is kept (issued), nothing is issued twice.
            assert [r.state for r in rows] == ["issued"], name
        # Restart: a new process issues for the same subject under a fresh serial.
        again = _issue_in_process(db_url, keys, "none", f"fault:{name}")
        assert again.returncode == 0, again.stderr[-2000:]
    serials = [
        r.serial for r in Certificate.select(Certificate.serial).where(Certificate.subject_ref.startswith("fault:"))
    ]
    assert len(serials) == 8 and len(set(serials)) == 8  # 0 duplicate serials
    stale = reconcile.stale_reservations(datetime.now(UTC) + timedelta(minutes=6))
    assert len(stale) == 3  # the three crashes before storing are surfaced for an administrator
