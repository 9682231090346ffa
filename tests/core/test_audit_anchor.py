"""The anchored audit trail (issue 15 item 4; EN 319 401 §7.10, CA/B BR §5.4.1 tamper evidence):
a keyed chain, a keyed head, seals signed by the audit key and timestamped by our TSA, a
scheduled seal, and readiness that degrades when the trail goes unsealed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace

import peewee as pw
import pytest
from asn1crypto import cms, tsp
from falcon import testing

from config import jobs
from config.app import create_app
from config.runtime import Runtime
from config.settings import Settings
from config.wiring import audit as audit_wiring
from core import audit
from core.audit import AuditHead, AuditRecord, AuditSeal
from core.clock import FrozenClock
from core.db import atomic
from hsm.software import SoftwareKeyStore
from tests.pki import TestPKI

KEY = b"k" * 32


@pytest.fixture
def keyed() -> Iterator[bytes]:
    audit.configure_chain_key(KEY)
    yield KEY
    audit.configure_chain_key(None)


def _write(clock: FrozenClock, n: int) -> None:
    for i in range(n):
        with atomic():
            audit.record(
                clock, actor="test:t", action="thing.change", object_type="thing", object_id=i, details={"i": i}
            )
        clock.advance(seconds=1)


def _cut_and_rewind(n: int) -> None:
    """The review's attack: delete the newest n records and move the head back consistently."""
    head = AuditHead.get_by_id(1)
    keep = AuditRecord.get(AuditRecord.seq == head.seq - n)
    AuditRecord.delete().where(AuditRecord.seq > keep.seq).execute()
    AuditHead.update(seq=keep.seq, hash=keep.hash).where(AuditHead.id == 1).execute()


def test_keyed_chain_verifies(db: pw.Database, clock: FrozenClock, keyed: bytes) -> None:
    _write(clock, 5)
    report = audit.verify_chain(key=keyed)
    assert report.ok and report.keyed and report.records == 5
    assert all(r.mac for r in AuditRecord.select())


def test_truncation_with_head_rewind_is_detected(db: pw.Database, clock: FrozenClock, keyed: bytes) -> None:
    _write(clock, 60)
    _cut_and_rewind(44)
    assert audit.verify_chain().ok  # what the unkeyed chain saw: "audit chain OK"
    report = audit.verify_chain(key=keyed)
    assert [p.kind for p in report.problems] == ["head_rewound"]


def test_recomputed_chain_after_the_last_seal_is_detected(
    db: pw.Database, clock: FrozenClock, keyed: bytes, key_store: SoftwareKeyStore
) -> None:
    from hsm.base import KeySpec

    seal_key = key_store.generate("seal-test", KeySpec("ec-p256"))
    _write(clock, 5)
    audit.seal(clock, seal_key, "seal-test", actor="test:t")
    _write(clock, 5)
    # An insider rewrites every record after the seal and recomputes the SHA-256 chain and head.
    sealed = AuditSeal.get()
    prev = AuditRecord.get(AuditRecord.seq == sealed.seq + 1).prev_hash
    for row in AuditRecord.select().where(AuditRecord.seq > sealed.seq).order_by(AuditRecord.seq):
        details = {**row.details, "forged": True}
        digest = audit._digest(
            row.seq, row.at, row.actor, row.action, row.object_type, row.object_id, row.outcome, details, prev
        )
        AuditRecord.update(details=details, prev_hash=prev, hash=digest).where(AuditRecord.id == row.id).execute()
        prev = digest
    AuditHead.update(hash=prev).where(AuditHead.id == 1).execute()
    assert audit.verify_chain().ok  # the plain hash chain and the seal cannot see it
    kinds = {p.kind for p in audit.verify_chain(key=keyed).problems}
    assert kinds == {"edited", "head_rewound"}


def test_records_without_mac_in_a_keyed_chain_are_reported(db: pw.Database, clock: FrozenClock, keyed: bytes) -> None:
    _write(clock, 3)
    AuditRecord.update(mac=None).where(AuditRecord.seq == 3).execute()
    assert [p.kind for p in audit.verify_chain(key=keyed).problems] == ["unkeyed"]


@pytest.fixture
def runtime(settings: Settings, pki: TestPKI, clock: FrozenClock, key_store: SoftwareKeyStore) -> Runtime:
    return Runtime(replace(settings, audit=replace(settings.audit, chain_key="c" * 32)), clock, key_store)


def test_seal_job_signs_and_timestamps_when_due(runtime: Runtime, clock: FrozenClock) -> None:
    summary = audit_wiring.seal_job(runtime)
    assert summary.startswith("sealed the audit chain") and "(timestamped)" in summary
    seal = AuditSeal.get()
    token = cms.ContentInfo.load(bytes(seal.timestamp_token))
    info = token["content"]["encap_content_info"]["content"].parsed
    assert isinstance(info, tsp.TSTInfo)
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(audit.seal_message(seal)).digest()
    assert audit_wiring.seal_job(runtime) == "not due"
    clock.advance(seconds=runtime.settings.audit.seal_interval_seconds)
    assert audit_wiring.seal_job(runtime).startswith("sealed")
    report = audit.verify_chain(audit_wiring.audit_public_keys(), audit_wiring.chain_key(runtime))  # type: ignore[arg-type]
    assert report.ok and report.seals_checked == 2 and report.seals_timestamped == 2
    assert report.seal_age(clock.now()) is not None


def test_seal_job_is_registered_and_runs_at_shutdown(runtime: Runtime) -> None:
    assert "audit.seal" in jobs.JOBS
    assert jobs.seal_at_shutdown(runtime).startswith("sealed the audit chain")
    assert jobs.seal_at_shutdown(runtime) == "audit chain already sealed" or AuditSeal.select().count() >= 1


def test_readyz_degrades_when_the_last_seal_is_older_than_two_intervals(
    runtime: Runtime, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore
) -> None:
    client = testing.TestClient(create_app(runtime.settings, ["ca"], clock=clock, key_store=key_store, database=db))
    audit_wiring.seal_now(runtime, actor="test:t")
    assert client.simulate_get("/readyz").status_code == 200
    interval = runtime.settings.audit.seal_interval_seconds
    clock.advance(seconds=2 * interval + 1)
    with atomic():
        audit.record(clock, actor="test:t", action="thing.change", object_type="thing", object_id=1)
    r = client.simulate_get("/readyz")
    assert r.status_code == 503 and r.json["checks"]["audit_seal"].startswith("stale")
    audit_wiring.seal_now(runtime, actor="test:t")
    assert client.simulate_get("/readyz").status_code == 200


def test_cli_verify_reports_seal_age_and_rewind(runtime: Runtime, clock: FrozenClock) -> None:
    import io

    from config.cli import main

    audit_wiring.seal_now(runtime, actor="test:t")
    clock.advance(seconds=90)
    out = io.StringIO()
    assert main(["audit", "verify"], out=out, runtime=runtime) == 0
    assert "last seal: record" in out.getvalue() and "90 s ago" in out.getvalue()
    with atomic():
        for i in range(3):
            audit.record(clock, actor="test:t", action="thing.change", object_type="thing", object_id=i)
    _cut_and_rewind(2)
    out = io.StringIO()
    assert main(["audit", "verify"], out=out, runtime=runtime) == 1
    assert "head_rewound" in out.getvalue()


def test_record_many_extends_one_keyed_chain(db: pw.Database, clock: FrozenClock, keyed: bytes) -> None:
    _write(clock, 2)
    with atomic():
        audit.record_many(
            clock, [audit.Entry("test:t", "bulk.thing", "thing", i, details={"i": i}) for i in range(300)]
        )
    _write(clock, 1)
    report = audit.verify_chain(key=keyed)
    assert report.ok and report.records == 303 and report.head_seq == 303
    with pytest.raises(audit.AuditError):
        audit.record_many(clock, [audit.Entry("test:t", "x", "thing", 1)])  # outside a transaction


def test_jobs_loop_audits_its_start_and_stop_and_seals_at_shutdown(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from config.cli import main

    ran: list[bool] = []
    monkeypatch.setattr(jobs, "loop", lambda rt, stop: ran.append(True))
    out = io.StringIO()
    assert main(["jobs", "loop"], out=out, runtime=runtime) == 0
    assert ran and "stopping: sealed the audit chain" in out.getvalue()
    actions = [r.action for r in AuditRecord.select().order_by(AuditRecord.seq)]
    assert "process.start" in actions and "process.stop" in actions
    assert actions.index("process.stop") < actions.index("audit.seal")  # the stop is sealed too


def test_seal_tokens_are_checked_against_the_seal_and_our_tsa(runtime: Runtime, clock: FrozenClock) -> None:
    first = audit_wiring.seal_now(runtime, actor="test:t")
    clock.advance(seconds=5)
    second = audit_wiring.seal_now(runtime, actor="test:t")
    assert audit_wiring.seal_token_problems(runtime) == []
    # A token moved from another seal does not cover this one.
    AuditSeal.update(timestamp_token=second.timestamp_token).where(AuditSeal.id == first.id).execute()
    problems = audit_wiring.seal_token_problems(runtime)
    assert [p.kind for p in problems] == ["bad_timestamp"] and "does not cover" in problems[0].message
    # A token whose signature was tampered with is not our TSA's.
    token = bytearray(bytes(second.timestamp_token))
    token[-3] ^= 0x01
    AuditSeal.update(timestamp_token=bytes(token)).where(AuditSeal.id == second.id).execute()
    assert len(audit_wiring.seal_token_problems(runtime)) == 2
