"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when
SEKAP_TRUST_TEST_DATABASE_URL names one), a frozen clock, software and SoftHSM2 key stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import peewee as pw
import pytest

from config.migrations import all_migrations
from core import db as core_db
from core.clock import FrozenClock
from core.migrations import upgrade

POSTGRES_URL = os.environ.get("SEKAP_TRUST_TEST_DATABASE_URL", "")
REQUIRE_POSTGRES = os.environ.get("SEKAP_TRUST_REQUIRE_POSTGRES") == "1"

_pg_schema_ready = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL.startswith("postgres"):
        return
    if REQUIRE_POSTGRES:
        raise pytest.UsageError("SEKAP_TRUST_REQUIRE_POSTGRES=1 but SEKAP_TRUST_TEST_DATABASE_URL is not a PostgreSQL URL")
    skip = pytest.mark.skip(reason="needs PostgreSQL: set SEKAP_TRUST_TEST_DATABASE_URL=postgresql://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def database_url(tmp_path: Path) -> str:
    return POSTGRES_URL or f"sqlite:///{tmp_path}/test.db"


def _reset_postgres(database: pw.Database) -> None:
    """First use in this process: rebuild the schema; later: empty every table (fast)."""
    global _pg_schema_ready
    if not _pg_schema_ready:
        database.execute_sql("DROP SCHEMA IF EXISTS public CASCADE")
        database.execute_sql("CREATE SCHEMA public")
        upgrade(all_migrations())
        _pg_schema_ready = True
        return
    tables = [t for t in database.get_tables() if t != "schema_migration"]
    if tables:
        database.execute_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return database_url(tmp_path)


@pytest.fixture
def db(db_url: str) -> Iterator[pw.Database]:
    """A bound, migrated, empty database."""
    database = core_db.open_database(db_url)
    core_db.bind(database)
    database.connect()
    if isinstance(database, pw.PostgresqlDatabase):
        _reset_postgres(database)
    else:
        upgrade(all_migrations())
    yield database
    if not database.is_closed():
        database.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()
