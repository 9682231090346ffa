"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when
SEKAP_TRUST_TEST_DATABASE_URL names one), a frozen clock, software and SoftHSM2 key stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import peewee as pw
import pytest
from falcon import testing

from config.migrations import all_migrations
from core import db as core_db
from core.clock import FrozenClock
from core.migrations import upgrade
from hsm.base import KeyStore
from hsm.software import SoftwareKeyStore
from tests.softhsm import softhsm, softhsm_token  # noqa: F401 - fixtures for every test package

if TYPE_CHECKING:
    from config.settings import Settings
    from tests.pki import TestPKI

POSTGRES_URL = os.environ.get("SEKAP_TRUST_TEST_DATABASE_URL", "")
REQUIRE_POSTGRES = os.environ.get("SEKAP_TRUST_REQUIRE_POSTGRES") == "1"

_pg_schema_ready = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL.startswith("postgres"):
        return
    if REQUIRE_POSTGRES:
        raise pytest.UsageError(
            "SEKAP_TRUST_REQUIRE_POSTGRES=1 but SEKAP_TRUST_TEST_DATABASE_URL is not a PostgreSQL URL"
        )
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
    database.close_all()  # pooled: really close, so no test leaks connections into the next


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def key_store(tmp_path: Path) -> SoftwareKeyStore:
    from tests.pki import software_store

    return software_store(tmp_path / "keys")


@pytest.fixture
def pki(db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore) -> TestPKI:
    """A complete hierarchy (root, citizens, OCSP signers, TSA, audit) from the real ceremony."""
    from tests.pki import build_pki

    return build_pki(clock, key_store)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Default settings pointed at the test database (no secrets needed: tests inject the key store)."""
    from config.settings import load_settings

    return load_settings(env={"SEKAP_TRUST__DATABASE__URL": db_url, "SEKAP_TRUST__KEYSTORE__PIN_FILE": ""})


def make_client(
    settings: Settings, services: list[str], db: pw.Database, clock: FrozenClock, key_store: KeyStore
) -> testing.TestClient:
    from config.app import create_app

    return testing.TestClient(create_app(settings, services, clock=clock, key_store=key_store, database=db))
