"""Audit trail (README "Every state change that matters writes an audit record in the same
transaction"; EN 319 401 §7.10 / CA/B BR §5.4.1 tamper evidence)."""

from __future__ import annotations

import itertools

import peewee as pw
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from core import audit
from core.audit import AuditError, AuditHead, AuditRecord, AuditSeal
from core.clock import FrozenClock
from core.db import BaseModel, atomic


def _write(clock: FrozenClock, n: int) -> None:
    for i in range(n):
        with atomic():
            audit.record(
                clock, actor="test:t", action="thing.change", object_type="thing", object_id=i, details={"i": i}
            )
        clock.advance(seconds=1)


def test_chain_of_records_verifies(db: pw.Database, clock: FrozenClock) -> None:
    _write(clock, 5)
    report = audit.verify_chain()
    assert report.ok and report.records == 5 and report.head_seq == 5
    rows = list(AuditRecord.select().order_by(AuditRecord.seq))
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert rows[2].at.tzinfo is not None


def test_record_outside_a_transaction_is_refused(db: pw.Database, clock: FrozenClock) -> None:
    with pytest.raises(AuditError):
        audit.record(clock, actor="test:t", action="x", object_type="thing", object_id=1)
    assert AuditRecord.select().count() == 0


class _Thing(BaseModel):
    name = pw.CharField()


def test_change_without_its_record_does_not_happen(db: pw.Database, clock: FrozenClock) -> None:
    """The change and its audit record commit together: a failing audit write undoes the change."""
    db.create_tables([_Thing])
    try:
        with pytest.raises(AuditError), atomic():
            _Thing.create(name="change")
            audit.record(
                clock,
                actor="test:t",
                action="thing.create",
                object_type="thing",
                object_id=1,
                details={"pesel": "44051401359"},
            )
        assert _Thing.select().count() == 0
        assert AuditRecord.select().count() == 0
        with atomic():
            _Thing.create(name="change")
            audit.record(clock, actor="test:t", action="thing.create", object_type="thing", object_id=1)
        assert _Thing.select().count() == 1 and AuditRecord.select().count() == 1
    finally:
        db.drop_tables([_Thing])


@pytest.mark.parametrize(
    "details",
    [
        {"pesel": "44051401359"},
        {"nested": {"revocation_code": "x"}},
        {"subject": "PNOPL-44051401359"},
        {"note": "id 44051401359"},
        {"list": [{"pin": "1234"}]},
    ],
    ids=["pesel-key", "nested-code", "semantics-id", "bare-pesel", "pin-in-list"],
)
def test_personal_data_is_refused_in_details(db: pw.Database, clock: FrozenClock, details: dict[str, object]) -> None:
    with pytest.raises(AuditError), atomic():
        audit.record(clock, actor="test:t", action="x", object_type="citizen", object_id=7, details=details)
    assert AuditRecord.select().count() == 0


def test_deleted_record_is_detected(db: pw.Database, clock: FrozenClock) -> None:
    _write(clock, 5)
    AuditRecord.delete().where(AuditRecord.seq == 3).execute()
    problems = audit.verify_chain().problems
    assert [(p.kind, p.seq) for p in problems] == [("deleted", 3)]


def test_edited_record_is_detected(db: pw.Database, clock: FrozenClock) -> None:
    _write(clock, 5)
    AuditRecord.update(actor="test:someone-else").where(AuditRecord.seq == 2).execute()
    problems = audit.verify_chain().problems
    assert ("edited", 2) in [(p.kind, p.seq) for p in problems]


def test_edited_details_are_detected(db: pw.Database, clock: FrozenClock) -> None:
    _write(clock, 3)
    AuditRecord.update(details={"i": 42}).where(AuditRecord.seq == 1).execute()
    assert ("edited", 1) in [(p.kind, p.seq) for p in audit.verify_chain().problems]


def test_truncated_tail_is_detected(db: pw.Database, clock: FrozenClock) -> None:
    _write(clock, 5)
    AuditRecord.delete().where(AuditRecord.seq >= 4).execute()
    problems = audit.verify_chain().problems
    assert [(p.kind, p.seq) for p in problems] == [("truncated", 4)]


def test_rewound_head_is_caught_by_a_seal(db: pw.Database, clock: FrozenClock) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    _write(clock, 4)
    audit.seal(clock, key, "audit-key", actor="test:t")
    assert audit.verify_chain({"audit-key": key.public_key()}).ok
    # An attacker deletes the tail and rewinds the head consistently: only the seal can tell.
    last = AuditRecord.select().where(AuditRecord.seq == 3).get()
    AuditRecord.delete().where(AuditRecord.seq >= 4).execute()
    AuditHead.update(seq=3, hash=last.hash).execute()
    kinds = {p.kind for p in audit.verify_chain({"audit-key": key.public_key()}).problems}
    assert "truncated" in kinds


def test_forged_seal_is_detected(db: pw.Database, clock: FrozenClock) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    _write(clock, 2)
    seal = audit.seal(clock, key, "audit-key", actor="test:t")
    AuditSeal.update(signature=b"\x30\x00").where(AuditSeal.id == seal.id).execute()
    assert {p.kind for p in audit.verify_chain().problems} == {"bad_seal"}
    # A seal made with a key that is not the audit key is reported too.
    AuditSeal.delete().execute()
    audit.seal(clock, other, "audit-key", actor="test:t")
    assert "bad_seal" in {p.kind for p in audit.verify_chain({"audit-key": key.public_key()}).problems}


def test_seal_of_empty_trail_is_refused(db: pw.Database, clock: FrozenClock) -> None:
    with pytest.raises(AuditError):
        audit.seal(clock, ec.generate_private_key(ec.SECP256R1()), "k", actor="test:t")
