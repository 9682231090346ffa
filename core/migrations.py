"""Versioned schema migrations, per package, recorded in ``schema_migration``.

Each package lists its steps in ``<package>/migrations.py`` as ``MIGRATIONS``. A step runs once,
in its own transaction, in version order. A step that adds to a table created by an earlier step
must not rely on the earlier step having used today's model (fresh databases run every step).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import peewee as pw

from core.db import BaseModel, UTCDateTimeField, database


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
        with database.atomic():
            migration.apply(database.obj)
            SchemaMigration.create(
                package=migration.package,
                version=migration.version,
                name=migration.name,
                applied_at=datetime.now(UTC),
            )
        ran.append(migration)
    return ran


def _check_sequence(migrations: Sequence[Migration]) -> None:
    by_package: dict[str, list[int]] = {}
    for m in migrations:
        by_package.setdefault(m.package, []).append(m.version)
    for package, versions in by_package.items():
        if versions != list(range(1, len(versions) + 1)):
            raise ValueError(f"migrations of {package} are not numbered 1..n: {versions}")
