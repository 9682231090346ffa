"""Versioned schema migrations, per package, recorded in ``schema_migration``.

Each package lists its steps in ``<package>/migrations.py`` as ``MIGRATIONS``. A step runs once,
in its own transaction, in version order. A step that adds to a table created by an earlier step
must not rely on the earlier step having used today's model (fresh databases run every step).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import peewee as pw

from core.db import BaseModel, UTCDateTimeField, database, is_sqlite


class SchemaMigration(BaseModel):
    package = pw.CharField(max_length=40)
    version = pw.IntegerField()
    name = pw.CharField(max_length=200)
    applied_at = UTCDateTimeField()

    class Meta:
        table_name = "schema_migration"
        indexes = ((("package", "version"), True),)


@dataclass(frozen=True)
class Migration:
    package: str
    version: int
    name: str
    apply: Callable[[pw.Database], None]
    # SQLite only: run with foreign-key enforcement off (a table rebuild drops and renames a table
    # that others reference); the step's transaction ends with PRAGMA foreign_key_check.
    rebuilds_tables: bool = False

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ValueError("migration versions start at 1")


def create_tables(*models: type[pw.Model]) -> Callable[[pw.Database], None]:
    """A migration step that creates ``models`` as they are declared."""

    def apply(db: pw.Database) -> None:
        db.create_tables(list(models), safe=False)

    return apply


def _ensure_table() -> None:
    database.create_tables([SchemaMigration], safe=True)


def applied() -> set[tuple[str, int]]:
    _ensure_table()
    return {(m.package, m.version) for m in SchemaMigration.select(SchemaMigration.package, SchemaMigration.version)}


def pending(migrations: Iterable[Migration]) -> list[Migration]:
    done = applied()
    # Kept in the order given: config lists packages in dependency order (core, ca, enrollment...).
    ordered = list(migrations)
    _check_sequence(ordered)
    return [m for m in ordered if (m.package, m.version) not in done]


def upgrade(migrations: Sequence[Migration]) -> list[Migration]:
    """Apply every pending migration; return those applied."""
    ran = []
    for migration in pending(migrations):
        rebuild = migration.rebuilds_tables and is_sqlite()
        if rebuild:
            # PRAGMA foreign_keys is a no-op inside a transaction: switch it outside.
            database.execute_sql("PRAGMA foreign_keys = OFF")
        try:
            with database.atomic():
                migration.apply(database.obj)
                if rebuild and database.execute_sql("PRAGMA foreign_key_check").fetchall():
                    raise pw.IntegrityError(f"migration {migration.name!r} broke a foreign key")
                SchemaMigration.create(
                    package=migration.package,
                    version=migration.version,
                    name=migration.name,
                    applied_at=datetime.now(UTC),
                )
        finally:
            if rebuild:
                database.execute_sql("PRAGMA foreign_keys = ON")
        ran.append(migration)
    return ran


_REUSABLE_ID = re.compile(r'("id"\s+INTEGER\s+NOT\s+NULL\s+PRIMARY\s+KEY)(?!\s+AUTOINCREMENT)', re.IGNORECASE)


def sqlite_never_reuse_ids(db: Any) -> None:
    """Rebuild every SQLite table whose ``id`` is a plain ``INTEGER PRIMARY KEY`` with
    ``AUTOINCREMENT``, so a deleted row's id is never handed out again (audit records,
    certificates, tokens...). Tables created since :class:`core.db.NeverReusedAutoField` already
    have it; on PostgreSQL (sequences never go back) there is nothing to do.

    The rebuild follows SQLite's documented procedure (https://sqlite.org/lang_altertable.html §7):
    create the new table, copy, drop the old one, rename, recreate its indexes and triggers."""
    if not is_sqlite():
        return
    tables = db.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    for name, sql in tables:
        if not sql or not _REUSABLE_ID.search(sql):
            continue
        _rebuild_with_autoincrement(db, name, sql)


def _rebuild_with_autoincrement(db: Any, name: str, sql: str) -> None:
    temporary = f"{name}__autoincrement"
    create = _REUSABLE_ID.sub(r"\1 AUTOINCREMENT", sql, count=1)
    create = re.sub(rf'^CREATE TABLE\s+"?{re.escape(name)}"?', f'CREATE TABLE "{temporary}"', create, count=1)
    extras = [
        row[0]
        for row in db.execute_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
            (name,),
        ).fetchall()
    ]
    db.execute_sql(create)
    db.execute_sql(f'INSERT INTO "{temporary}" SELECT * FROM "{name}"')  # noqa: S608 - names from sqlite_master
    db.execute_sql(f'DROP TABLE "{name}"')
    db.execute_sql(f'ALTER TABLE "{temporary}" RENAME TO "{name}"')
    for statement in extras:
        db.execute_sql(statement)


def _check_sequence(migrations: Sequence[Migration]) -> None:
    by_package: dict[str, list[int]] = {}
    for m in migrations:
        by_package.setdefault(m.package, []).append(m.version)
    for package, versions in by_package.items():
        if versions != list(range(1, len(versions) + 1)):
            raise ValueError(f"migrations of {package} are not numbered 1..n: {versions}")
