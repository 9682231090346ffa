"""Audit coverage of system events (issue 15 item 8): PKCS#11 session loss and recovery and
database outages become audit records (config.system_audit, fed through core.events), written
once the database can take them; process start and stop of web workers is checked in
tests/config/test_serve.py, a real outage of PostgreSQL in tests/config/test_outage.py."""

from __future__ import annotations

from collections.abc import Iterator

import peewee as pw
import pytest

from config.system_audit import SystemAudit
from core import db as core_db
from core import events
from core.audit import AuditRecord, verify_chain
from core.clock import FrozenClock
from core.db import atomic
from hsm.base import KeySpec
from tests.softhsm import SoftHSMToken, softhsm, softhsm_token  # noqa: F401 - fixtures


@pytest.fixture
def system_audit(db: pw.Database, clock: FrozenClock) -> Iterator[SystemAudit]:
    """A SystemAudit of its own, subscribed for the test only (the process-wide one may hold
    events of other tests)."""
    own = SystemAudit(clock)
    events.subscribe(own.handle)
    yield own
    events.unsubscribe(own.handle)


def _records(action: str) -> list[AuditRecord]:
    return list(AuditRecord.select().where(AuditRecord.action == action).order_by(AuditRecord.seq))


@pytest.mark.hsm
def test_pkcs11_session_loss_and_recovery_are_audited(
    system_audit: SystemAudit,
    softhsm_token: SoftHSMToken,  # noqa: F811 - the imported fixture
    clock: FrozenClock,
) -> None:
    """PKCS#11 v2.40 §5.6 C_CloseAllSessions (a token reset, an HSM fail-over) behind the
    store's back: the store reconnects and logs in again, and both the loss and the recovery
    are audit records naming the token, not only log lines."""
    store = softhsm_token.key_store(pool_size=2)
    store.generate("k", KeySpec("ec-p256"))
    store.find("k")
    assert not system_audit.pending()
    softhsm_token.close_all_sessions()
    store.find("k")
    assert system_audit.flush() == 2
    lost, recovered = _records("hsm.session_lost"), _records("hsm.session_recovered")
    assert len(lost) == 1 and len(recovered) == 1
    assert lost[0].object_type == "hsm_token" and lost[0].object_id == softhsm_token.label
    assert lost[0].actor == "system" and lost[0].details["error"] and lost[0].details["operation"]
    assert recovered[0].seq > lost[0].seq and "seconds" in recovered[0].details
    assert softhsm_token.pin not in str(lost[0].details)
    store.find("k")
    assert not system_audit.pending()  # a healthy session reports nothing more
    assert verify_chain().ok


def test_database_outage_is_one_record_once_the_database_is_back(system_audit: SystemAudit, clock: FrozenClock) -> None:
    """Every time the application finds the database unavailable (core.db.forget_connections)
    the outage goes on; the record, with its first and last sighting and its end, is written by
    the first flush that reaches the database, never inside someone else's transaction."""
    started = clock.now()
    core_db.forget_connections()
    clock.advance(seconds=20)
    core_db.report_unavailable()
    clock.advance(seconds=10)
    with atomic():
        assert system_audit.flush() == 0  # not inside a caller's transaction (it could roll back)
    assert system_audit.flush() == 1
    (record,) = _records("system.database_outage")
    assert record.details["started_at"] == started.isoformat()
    assert record.details["ended_at"] == clock.now().isoformat()
    assert record.details["seconds"] == 30 and record.details["failures"] == 2
    assert not system_audit.pending() and system_audit.flush() == 0
