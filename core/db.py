"""The database proxy every package's models bind to, and the transaction helper.

``config`` binds :data:`database` at start-up from a URL; packages never open connections
themselves. Services open transactions with :func:`atomic`; HTTP resources never do.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlparse

import peewee as pw
from playhouse.pool import MaxConnectionsExceeded, PooledDatabase, PooledPostgresqlDatabase, PooledSqliteDatabase

from core import events
from core.clock import from_db, to_db
from core.errors import ConfigurationError

logger = logging.getLogger(__name__)
database = pw.DatabaseProxy()
_Q = TypeVar("_Q", bound="pw.ModelSelect[Any]")

# Connections are pooled: "closing" one at the end of a request returns it to the pool, so a
# request costs no connection set-up (a new PostgreSQL backend, or SQLite's pragmas).
POOL_SIZE = 32
POOL_STALE_SECONDS = 300
POOL_WAIT_SECONDS = 10

SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("synchronous", "full"),
    ("foreign_keys", 1),
    ("busy_timeout", 30_000),
)


# The database holds personal data (PESEL, document numbers, PKCS#12 files waiting for pick-up):
# only the service account may read it. SQLite creates -wal and -shm with the database file's mode.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


class NeverReusedAutoField(pw.AutoField):
    """An integer primary key whose values are never handed out again after a delete.

    On SQLite a plain ``INTEGER PRIMARY KEY`` reuses the largest id once its row is deleted;
    ``AUTOINCREMENT`` keeps the high-water mark in ``sqlite_sequence``. PostgreSQL sequences never
    go back, so the column is unchanged there."""

    def ddl(self, ctx: Any) -> Any:
        node = super().ddl(ctx)  # type: ignore[no-untyped-call]
        if is_sqlite():
            return pw.NodeList((node, pw.SQL("AUTOINCREMENT")))
        return node


class BaseModel(pw.Model):
    id = NeverReusedAutoField()

    class Meta:
        database = database
        legacy_table_names = False


class UTCDateTimeField(pw.DateTimeField):
    """Stores timezone-aware UTC datetimes as naive UTC; reads them back aware."""

    def db_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            value = to_db(value)
        return super().db_value(value)  # type: ignore[no-untyped-call]

    def python_value(self, value: Any) -> Any:
        value = super().python_value(value)  # type: ignore[no-untyped-call]
        if isinstance(value, datetime):
            return from_db(value)
        return value


class JSONField(pw.TextField):
    """JSON stored as text, identical on SQLite and PostgreSQL; keys sorted for stable output."""

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def python_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.loads(value)


def open_database(url: str) -> pw.Database:
    """Create (not connect) a peewee database for ``url``.

    ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` or ``sqlite:///:memory:``;
    ``postgresql://user@host:port/dbname``.
    """
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = parsed.path[1:] if parsed.path.startswith("/") else parsed.path
        if not path:
            raise ConfigurationError("database.url", "sqlite URL needs a path, e.g. sqlite:///var/sekap.db")
        if path != ":memory:":
            prepare_private_file(Path(path))
        sqlite_db: pw.Database = PooledSqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            lock_type="IMMEDIATE",
            check_same_thread=False,
            max_connections=POOL_SIZE,
            stale_timeout=POOL_STALE_SECONDS,
            timeout=POOL_WAIT_SECONDS,
        )
        return sqlite_db
    if parsed.scheme in ("postgres", "postgresql"):
        options: dict[str, Any] = dict(parse_qsl(parsed.query))
        postgres_db: pw.Database = PooledPostgresqlDatabase(
            parsed.path.lstrip("/") or "postgres",
            max_connections=POOL_SIZE,
            stale_timeout=POOL_STALE_SECONDS,
            timeout=POOL_WAIT_SECONDS,
            user=parsed.username or None,
            password=parsed.password or None,
            host=parsed.hostname or None,
            port=parsed.port or None,
            autorollback=False,
            **options,
        )
        return postgres_db
    raise ConfigurationError("database.url", f"unsupported scheme {parsed.scheme!r} (use sqlite or postgresql)")


def prepare_private_file(path: Path) -> None:
    """Create ``path`` (and its directory) readable by this user only, before anything is written.

    A missing directory is made 0700 (the embedded default lives under ./var, which a fresh
    checkout does not have yet); the file is created 0600 with O_EXCL, so it is never readable by
    others even for a moment; an existing file or its -wal/-shm with wider modes is narrowed."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, mode=PRIVATE_DIR_MODE)
        parent.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            candidate.chmod(mode & ~0o077 & 0o7777)


def drop_connection() -> None:
    """Return this thread's connection to the pool now, e.g. after a database error that is
    answered without an exception (so the next request does not reuse a broken connection)."""
    if database.obj is not None and not database.is_closed():
        database.close()


def bind(db: pw.Database) -> None:
    database.initialize(db)


def is_sqlite() -> bool:
    return isinstance(database.obj, pw.SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, pw.PostgresqlDatabase)


def atomic() -> Any:
    """A transaction (or savepoint when nested). On SQLite it begins IMMEDIATE, so writers queue
    up front instead of failing on lock upgrade."""
    return database.atomic()


def lock_row(query: _Q) -> _Q:
    """``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the IMMEDIATE transaction already holds
    the write lock."""
    if is_postgres():
        return query.for_update()  # type: ignore[no-any-return]
    return query


@contextmanager
def connection() -> Iterator[None]:
    """Open a connection for the duration of the block (reusing one already open)."""
    opened = database.is_closed()
    if opened:
        database.connect()
    try:
        yield
    finally:
        if opened and not database.is_closed():
            database.close()


# SQLite's "the file cannot be used now" errors; others (no such table, syntax) are bugs.
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open database", "disk i/o error")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or used *now* (retry later): the
    server is down or unreachable, a connection broke, the pool is exhausted, a PostgreSQL
    transaction was cancelled or rolled back by the server, or SQLite stayed locked beyond its
    busy timeout. Constraint violations and programming errors are not unavailability."""
    # peewee re-raises the driver's exception (sometimes more than once): follow the chain.
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, MaxConnectionsExceeded) or _psycopg2_unavailable(seen):
            return True
        if isinstance(seen, sqlite3.OperationalError):
            text = str(seen).lower()
            return any(marker in text for marker in _SQLITE_UNAVAILABLE)
        seen = seen.__cause__ or seen.__context__
    return False


def _psycopg2_unavailable(exc: BaseException) -> bool:
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - psycopg2 is a dependency, but SQLite-only hosts may lack it
        return False
    return isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError)


def report_unavailable() -> None:
    """Tell the subscribers of :mod:`core.events` that the database was found unavailable (the
    composition root audits the outage once the database is back)."""
    events.emit(events.DATABASE_UNAVAILABLE)


def forget_connections() -> None:
    """After the database was found unavailable: return this thread's connection and close the
    pool's idle ones, so that once the database is back no request gets a dead connection."""
    report_unavailable()
    if database.obj is None:
        return
    try:
        if not database.is_closed():
            database.close()
        if isinstance(database.obj, PooledDatabase):
            database.obj.close_idle()
    except Exception:  # closing a broken connection may fail too; nothing is left to do then
        logger.debug("closing connections after an outage failed", exc_info=True)
