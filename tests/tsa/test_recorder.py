"""Group commit of the token record: every caller returns only after its row committed;
concurrent callers share transactions; collisions and failures reach the right callers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import peewee as pw
import pytest

from tsa.models import TSAToken
from tsa.recorder import SerialTakenError, TokenRecorder


def _row(serial: str) -> dict[str, Any]:
    return {
        "serial": serial,
        "gen_time": datetime(2026, 1, 15, tzinfo=UTC),
        "host": "h",
        "hash_algorithm": "sha256",
        "imprint": "00" * 32,
        "policy": "2.999.1.2.1",
        "has_nonce": False,
        "cert_req": False,
        "key_label": "k",
        "tsa_certificate_serial": "01",
    }


def test_concurrent_callers_share_commits() -> None:
    committed: list[list[str]] = []
    lock = threading.Lock()

    def slow_insert(rows: list[dict[str, Any]]) -> None:
        time.sleep(0.05)  # a slow fsync: callers pile up behind it
        with lock:
            committed.append([r["serial"] for r in rows])

    recorder = TokenRecorder(slow_insert)
    returned: list[str] = []

    def call(serial: str) -> None:
        recorder.record(_row(serial))
        # When record returns, the row is already committed.
        with lock:
            assert any(serial in batch for batch in committed)
            returned.append(serial)

    threads = [threading.Thread(target=call, args=(f"{i:02X}",)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(returned) == sorted(f"{i:02X}" for i in range(20))
    assert sorted(s for batch in committed for s in batch) == sorted(returned)
    assert len(committed) < 20  # at least some rows shared a transaction


def test_failure_reaches_every_caller_of_the_batch() -> None:
    def broken(rows: list[dict[str, Any]]) -> None:
        raise pw.OperationalError("database is down")

    with pytest.raises(pw.OperationalError):
        TokenRecorder(broken).record(_row("AA"))


def test_duplicate_serial_in_database(db: pw.Database) -> None:
    recorder = TokenRecorder()
    recorder.record(_row("0A"))
    with pytest.raises(SerialTakenError):
        recorder.record(_row("0A"))
    recorder.record(_row("0B"))
    assert sorted(t.serial for t in TSAToken.select()) == ["0A", "0B"]


def test_threads_against_the_real_database(db: pw.Database) -> None:
    recorder = TokenRecorder()
    errors: list[BaseException] = []

    def call(serial: str) -> None:
        try:
            recorder.record(_row(serial))
        except BaseException as exc:
            errors.append(exc)
        finally:
            if not db.is_closed():
                db.close()

    threads = [threading.Thread(target=call, args=(f"{i:04X}",)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert TSAToken.select().count() == 16
