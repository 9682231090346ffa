from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import peewee as pw
import pytest

from config.migrations import all_migrations
from core import db as core_db
from core.clock import FrozenClock, ensure_utc
from core.errors import ConfigurationError
from core.migrations import Migration, SchemaMigration, pending, upgrade


def test_sqlite_is_opened_with_durable_pragmas(tmp_path: object) -> None:
    database = core_db.open_database(f"sqlite:///{tmp_path}/x/y.db")
    database.connect()
    assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert database.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 30000
    database.close()


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://", "ftp://host/db"])
def test_unsupported_database_urls_name_the_setting(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        core_db.open_database(url)
    assert info.value.key == "database.url"


def test_migrations_apply_once_and_are_recorded(db: pw.Database) -> None:
    assert pending(all_migrations()) == []
    assert upgrade(all_migrations()) == []
    assert SchemaMigration.select().count() == len(all_migrations())


def test_migration_numbering_is_checked(db: pw.Database) -> None:
    broken = [Migration("x", 1, "a", lambda d: None), Migration("x", 3, "c", lambda d: None)]
    with pytest.raises(ValueError):
        pending(broken)


class _Stamp(core_db.BaseModel):
    at = core_db.UTCDateTimeField()


def test_datetimes_round_trip_as_aware_utc(db: pw.Database) -> None:
    db.create_tables([_Stamp])
    warsaw = datetime(2026, 6, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    row = _Stamp.create(at=warsaw)
    back = _Stamp.get_by_id(row.id).at
    assert back == warsaw and back.tzinfo == UTC
    db.drop_tables([_Stamp])


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        ensure_utc(datetime(2026, 1, 1))


def test_frozen_clock_moves_only_when_told() -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(hours=2)
    assert clock.now() == datetime(2026, 1, 1, 2, tzinfo=UTC)
