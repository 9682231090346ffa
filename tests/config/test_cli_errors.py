"""Every CLI failure is one clear line on stderr and a non-zero exit, never a traceback (issue 12)."""

from __future__ import annotations

import io

import peewee as pw
import pytest

from config.cli import main
from config.commands import db_cmd
from config.runtime import Runtime
from config.settings import Settings
from core import db as core_db
from core.clock import FrozenClock
from hsm.base import KeyStore


def _run(runtime: Runtime, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv), out=io.StringIO(), runtime=runtime)
    return code, capsys.readouterr().err


def _assert_one_line(err: str, starts: str) -> None:
    assert err.count("\n") == 1 and err.startswith(starts), err
    assert "Traceback" not in err


def test_an_unreachable_database_is_one_line(
    settings: Settings, clock: FrozenClock, key_store: KeyStore, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = core_db.open_database("postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2")
    previous = core_db.database.obj
    core_db.bind(unreachable)
    try:
        code, err = _run(Runtime(settings, clock, key_store), capsys, "db", "status")
    finally:
        core_db.database.initialize(previous)
    assert code == 1
    _assert_one_line(err, "error: the database is not available (")


def test_a_locked_sqlite_database_is_one_line(
    settings: Settings,
    db: pw.Database,
    clock: FrozenClock,
    key_store: KeyStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlite3

    def locked(*_: object) -> None:
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as exc:
            raise pw.OperationalError("database is locked") from exc

    monkeypatch.setattr(db_cmd, "pending", locked)
    code, err = _run(Runtime(settings, clock, key_store), capsys, "db", "status")
    assert code == 1
    _assert_one_line(err, "error: the database is not available (database is locked)")


def test_a_constraint_violation_is_one_line_without_personal_data(
    settings: Settings,
    db: pw.Database,
    clock: FrozenClock,
    key_store: KeyStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def violates(*_: object) -> None:
        raise pw.IntegrityError(
            'duplicate key value violates unique constraint "citizen_pesel"\n'
            "DETAIL:  Key (pesel)=(44051401359) already exists."
        )

    monkeypatch.setattr(db_cmd, "pending", violates)
    code, err = _run(Runtime(settings, clock, key_store), capsys, "db", "status")
    assert code == 1
    _assert_one_line(err, "error: the database refused the change (duplicate key value violates unique constraint")
    assert "44051401359" not in err


def test_an_unexpected_exception_is_one_line(
    settings: Settings,
    db: pw.Database,
    clock: FrozenClock,
    key_store: KeyStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object) -> None:
        raise KeyError("migrations")

    monkeypatch.setattr(db_cmd, "pending", broken)
    code, err = _run(Runtime(settings, clock, key_store), capsys, "db", "status")
    assert code == 1
    _assert_one_line(err, "error: unexpected KeyError: 'migrations'")
