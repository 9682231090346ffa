"""Group commit for the token record: one transaction (one fsync) for the tokens of all threads
of a worker that are waiting at the same moment.

A token is returned only after its row has committed, so no token escapes unrecorded, yet
concurrent requests share the cost of a durable commit. Leader/follower: the first thread to
find no commit in flight commits everything pending; the others wait for their batch. No
background thread, so nothing survives a fork or outlives a request.

The leader writes through a connection of its own, kept open for the life of the worker (the
request's connection is opened and closed per request; on SQLite closing the last connection
checkpoints the WAL, an fsync each time). On SQLite the leaders of the workers of one host also
queue on an advisory file lock before they begin: waiting there wakes a worker the moment the
other commits (SQLite's own busy handler sleeps in steps of up to 100 ms), and the batch keeps
filling while the leader waits.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from core.db import SQLITE_PRAGMAS, database, is_sqlite
from tsa.models import TSAToken

# A batch bigger than this is split: bounded statement size and lock time.
MAX_BATCH = 200


class SerialTakenError(Exception):
    """The row's serial already exists (the caller issues the token again under a new serial)."""


@dataclass
class _Batch:
    rows: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    error: BaseException | None = None
    taken: set[str] = field(default_factory=set)


class TokenRecorder:
    """Record ``tsa_token`` rows durably, batching concurrent callers of this process."""

    def __init__(self, insert: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        self._insert = insert or self._insert_rows
        self._own: pw.Database | None = None
        self._own_source: object = None
        self._cond = threading.Condition()
        self._pending = _Batch()
        self._committing = False
        self._lock_fd: int | None = None
        self._lock_path: str | None = None

    def record(self, row: dict[str, Any]) -> None:
        """Return once ``row`` is committed; raise :class:`SerialTakenError` on a duplicate serial
        and re-raise a database failure of its batch."""
        with self._cond:
            batch = self._pending
            batch.rows.append(row)
            while not batch.done and self._committing:
                self._cond.wait()
            leading = not batch.done
            if leading:
                # Nothing in flight and our batch still pending: we commit it (with everyone's rows).
                self._committing = True
        if leading:
            try:
                with self._host_lock():
                    with self._cond:
                        # Taken only now: rows that arrived while we waited for the lock ride along.
                        self._pending = _Batch()
                    self._commit(batch)
            except BaseException as exc:
                batch.error = exc
            finally:
                with self._cond:
                    batch.done = True
                    self._committing = False
                    self._cond.notify_all()
        if batch.error is not None:
            raise batch.error
        if row["serial"] in batch.taken:
            raise SerialTakenError(row["serial"])

    @contextmanager
    def _host_lock(self) -> Iterator[None]:
        fd = self._sqlite_lock()
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _sqlite_lock(self) -> int | None:
        """A lock file beside the SQLite database, opened in this process (after any fork)."""
        if not is_sqlite():
            return None
        path = str(getattr(database.obj, "database", ""))
        if not path or path == ":memory:":
            return None
        if self._lock_path != path:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
            self._lock_fd = os.open(f"{path}.tsa-lock", os.O_RDWR | os.O_CREAT, 0o600)
            self._lock_path = path
        return self._lock_fd

    def _commit(self, batch: _Batch) -> None:
        try:
            for start in range(0, len(batch.rows), MAX_BATCH):
                self._commit_chunk(batch, batch.rows[start : start + MAX_BATCH])
        except BaseException as exc:  # handed to every waiting thread of the batch
            batch.error = exc

    def _commit_chunk(self, batch: _Batch, rows: list[dict[str, Any]]) -> None:
        try:
            self._insert(rows)
        except pw.IntegrityError:
            # One of the serials exists (or repeats within the batch): insert one by one so only
            # the colliding rows fail.
            for row in rows:
                try:
                    self._insert([row])
                except pw.IntegrityError:
                    if not TSAToken.select().where(TSAToken.serial == row["serial"]).exists():
                        raise
                    batch.taken.add(row["serial"])

    def _insert_rows(self, rows: list[dict[str, Any]]) -> None:
        own = self._connection()
        # Plain SQL: peewee's query builder costs more CPU than the rest of a token.
        fields = _COLUMNS
        placeholder = "(" + ", ".join([own.param] * len(fields)) + ")"
        # Only the model's own table and column names are interpolated; every value is a parameter.
        sql = (
            f'INSERT INTO "{TSAToken._meta.table_name}" ({", ".join(f.column_name for f in fields)}) '  # noqa: S608
            f"VALUES {', '.join([placeholder] * len(rows))}"
        )
        params = [field.db_value(row[field.name]) for row in rows for field in fields]  # type: ignore[no-untyped-call]
        try:
            with own.atomic():
                own.execute_sql(sql, params)  # type: ignore[no-untyped-call]
        except (pw.OperationalError, pw.InterfaceError):
            # A broken connection (database restarted): start afresh next time.
            self.close()
            raise

    def _connection(self) -> pw.Database:
        """This worker's own connection to the database the models are bound to."""
        source = database.obj
        if self._own is None or self._own_source is not source:
            self.close()
            self._own = _open_like(source)
            self._own_source = source
        if self._own.is_closed():
            self._own.connect()
        return self._own

    def close(self) -> None:
        if self._own is not None and self._own is not database.obj and not self._own.is_closed():
            self._own.close()
        self._own = None

    def __del__(self) -> None:
        with suppress(Exception):  # interpreter shutdown: nothing to report to
            self.close()


_COLUMNS: tuple[pw.Field, ...] = tuple(f for f in TSAToken._meta.sorted_fields if f.name != "id")


def _open_like(source: pw.Database) -> pw.Database:
    """A second, single-owner connection to ``source``'s database (same settings)."""
    if isinstance(source, pw.SqliteDatabase) and source.database != ":memory:":
        return pw.SqliteDatabase(
            source.database, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", check_same_thread=False, thread_safe=False
        )
    if isinstance(source, pw.PostgresqlDatabase):
        return pw.PostgresqlDatabase(source.database, thread_safe=False, autorollback=False, **source.connect_params)
    return source
