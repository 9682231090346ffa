"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when
SEKAP_TRUST_TEST_DATABASE_URL names one), a frozen clock, software and SoftHSM2 key stores."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

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


def _worker_url(url: str) -> str:
    """Under pytest-xdist every worker gets its own database (``<name>_gw0``, ...): tests
    rebuild and truncate the schema, which workers sharing one database would trample."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url.startswith("postgres") or not worker:
        return url
    parsed = urlparse(url)
    return parsed._replace(path=f"/{parsed.path.lstrip('/') or 'postgres'}_{worker}").geturl()


CONFIGURED_POSTGRES_URL = os.environ.get("SEKAP_TRUST_TEST_DATABASE_URL", "")
POSTGRES_URL = _worker_url(CONFIGURED_POSTGRES_URL)
REQUIRE_POSTGRES = os.environ.get("SEKAP_TRUST_REQUIRE_POSTGRES") == "1"

_pg_schema_ready = False

# Identifier vectors of ../shared/REFERENCE.md used across the suite: none may reach a log line.
PERSONAL_VECTORS = frozenset(
    {
        "44051401359",
        "02211307589",
        "02070803628",
        "83071503434",
        "99923112316",
        "04422900119",
        "00610100006",
        "ABA300000",
        "ABS123456",
        "CC7999486",
    }
)
# Tests that log personal data on purpose, to prove the redaction works.
_DELIBERATE_LOGGERS = ("tests.logging",)


_SENTINEL = "log capture sentinel"


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.leaks: list[str] = []
        self.sentinels = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "tests.session" and record.getMessage() == _SENTINEL:
            self.sentinels += 1
            return
        # peewee's DEBUG lines carry SQL parameters; production keeps that logger at INFO.
        if record.name.startswith(_DELIBERATE_LOGGERS) or (record.name == "peewee" and record.levelno < logging.INFO):
            return
        self.leaks.extend(self.scan(record))

    @staticmethod
    def scan(record: logging.LogRecord) -> list[str]:
        text = record.getMessage() + " " + " ".join(map(str, record.__dict__.values()))
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        return [
            f"{record.name}: {value} in {record.getMessage()[:200]!r}" for value in PERSONAL_VECTORS if value in text
        ]


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_any_log_line() -> Iterator[None]:
    """README: PESEL and document numbers never appear in logs. Every log record of the whole
    suite (DEBUG and up) is scanned for the identifier vectors the tests use.

    Not vacuous, whichever tests run (a single file that logs nothing included): the scanner is
    shown to flag a vector first, and a sentinel logged at the end must arrive, so the capture
    was still attached to the root logger at DEBUG (a test that replaced the root handlers and
    did not restore them fails here). Redaction must not be left installed either: it would
    mask leaks before the capture sees them."""
    probe = logging.LogRecord("probe", logging.INFO, __file__, 0, "pesel %s", ("44051401359",), None)
    assert _LogCapture.scan(probe), "the scanner does not recognise a test vector"
    handler = _LogCapture()
    root = logging.getLogger()
    previous = root.level
    factory = logging.getLogRecordFactory()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    logging.getLogger("tests.session").debug(_SENTINEL)
    root.removeHandler(handler)
    root.setLevel(previous)
    assert handler.sentinels == 1, "the log capture was detached or raised above DEBUG during the run"
    assert logging.getLogRecordFactory() is factory, "a test left log redaction installed (it would hide leaks)"
    assert not handler.leaks, f"personal data in log lines: {handler.leaks[:5]}"


def pytest_configure(config: pytest.Config) -> None:
    if POSTGRES_URL != CONFIGURED_POSTGRES_URL:
        _create_database(CONFIGURED_POSTGRES_URL, urlparse(POSTGRES_URL).path.lstrip("/"))


def _create_database(admin_url: str, name: str) -> None:
    """CREATE DATABASE ``name`` unless it exists, connected to the configured database."""
    import psycopg2

    for attempt in range(5):
        conn = psycopg2.connect(admin_url, connect_timeout=10)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
            return
        except psycopg2.errors.DuplicateDatabase:
            return
        except psycopg2.OperationalError:
            # "source database template1 is being accessed by other users": another worker's
            # CREATE DATABASE at the same moment; try again shortly.
            if attempt == 4:
                raise
            time.sleep(0.5 + attempt)
        finally:
            conn.close()


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

    return load_settings(
        env={
            "SEKAP_TRUST__DATABASE__URL": db_url,
            "SEKAP_TRUST__KEYSTORE__PIN_FILE": "",
            "SEKAP_TRUST__AUDIT__CHAIN_KEY_FILE": "",
        }
    )


def make_client(
    settings: Settings, services: list[str], db: pw.Database, clock: FrozenClock, key_store: KeyStore
) -> testing.TestClient:
    from config.app import create_app

    return testing.TestClient(create_app(settings, services, clock=clock, key_store=key_store, database=db))
