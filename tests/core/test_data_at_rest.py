"""Data at rest (issue 15 item 1): the SQLite database, its -wal/-shm and key files are the service
account's alone from the moment they exist, and ids of deleted rows are never handed out again."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import peewee as pw
import pytest

from core import db as core_db
from core.migrations import Migration, SchemaMigration, sqlite_never_reuse_ids, upgrade
from hsm.base import KeySpec
from hsm.software import SoftwareKeyStore


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The permissive umask of a careless shell: modes must not depend on the caller's umask."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_sqlite_database_wal_and_shm_are_private_from_creation(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "var" / "sekap-trust.db"
    database = core_db.open_database(f"sqlite:///{path}")
    assert _mode(path.parent) == 0o700
    assert _mode(path) == 0o600  # before the first connection
    database.connect()
    database.execute_sql("CREATE TABLE t (x TEXT)")
    database.execute_sql("INSERT INTO t VALUES ('PNOPL-test')")
    for name in ("sekap-trust.db", "sekap-trust.db-wal", "sekap-trust.db-shm"):
        assert _mode(path.parent / name) == 0o600, name
    database.close_all()


def test_an_existing_readable_database_is_narrowed(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "old.db"
    for name in ("old.db", "old.db-wal", "old.db-shm"):
        (tmp_path / name).write_bytes(b"")
        (tmp_path / name).chmod(0o644)
    core_db.open_database(f"sqlite:///{path}")
    assert [_mode(tmp_path / n) for n in ("old.db", "old.db-wal", "old.db-shm")] == [0o600] * 3


def test_software_key_files_are_private(tmp_path: Path, open_umask: None) -> None:
    store = SoftwareKeyStore(tmp_path / "keys", b"passphrase")
    store.generate("k1", KeySpec("ec-p256"))
    assert _mode(tmp_path / "keys") == 0o700
    assert _mode(tmp_path / "keys" / "k1.key.pem") == 0o600


class _Thing(core_db.BaseModel):
    name = pw.CharField()


def _ids_after_deleting_the_last(database: pw.Database) -> int:
    with core_db.atomic():
        rows = [_Thing.create(name=str(i)) for i in range(3)]
        _Thing.delete().where(_Thing.id == rows[-1].id).execute()
        return int(_Thing.create(name="next").id) - int(rows[-1].id)


def test_ids_of_deleted_rows_are_never_reused(db: pw.Database) -> None:
    db.create_tables([_Thing])
    try:
        assert _ids_after_deleting_the_last(db) == 1
    finally:
        db.drop_tables([_Thing])


def test_migration_rebuilds_legacy_sqlite_tables_with_autoincrement(tmp_path: Path) -> None:
    database = core_db.open_database(f"sqlite:///{tmp_path}/legacy.db")
    core_db.bind(database)
    database.connect()
    # A table as older releases made it (no AUTOINCREMENT), referenced by another, with an index.
    database.execute_sql('CREATE TABLE "parent" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(10) NOT NULL)')
    database.execute_sql('CREATE UNIQUE INDEX "parent_name" ON "parent" ("name")')
    database.execute_sql(
        'CREATE TABLE "child" ("id" INTEGER NOT NULL PRIMARY KEY, '
        '"parent_id" INTEGER NOT NULL REFERENCES "parent" ("id"))'
    )
    database.execute_sql("INSERT INTO parent (name) VALUES ('a'), ('b'), ('c')")
    database.execute_sql("INSERT INTO child (parent_id) VALUES (1)")
    database.execute_sql("DELETE FROM parent WHERE id = 3")
    upgrade([Migration("x", 1, "never reuse ids", sqlite_never_reuse_ids, rebuilds_tables=True)])
    assert SchemaMigration.select().count() == 1
    sql = database.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'parent'").fetchone()[0]
    assert "AUTOINCREMENT" in sql
    assert database.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'parent_name'").fetchone()
    database.execute_sql("INSERT INTO parent (name) VALUES ('d')")
    database.execute_sql("DELETE FROM parent WHERE name = 'd'")
    database.execute_sql("INSERT INTO parent (name) VALUES ('e')")
    assert database.execute_sql("SELECT id FROM parent WHERE name = 'e'").fetchone()[0] == 4
    # The foreign key still points at the rebuilt table and is enforced again.
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(pw.IntegrityError):
        database.execute_sql("INSERT INTO child (parent_id) VALUES (99)")
    database.close_all()


def test_every_table_of_a_fresh_sqlite_database_never_reuses_ids(db: pw.Database) -> None:
    if not isinstance(db, pw.SqliteDatabase):
        pytest.skip("PostgreSQL sequences never go back")
    rows = db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE '%\"id\" INTEGER%'")
    plain = [name for name, sql in rows.fetchall() if "AUTOINCREMENT" not in sql and "PRIMARY KEY" in sql]
    assert plain == [] or plain == ["audit_head"], plain


@pytest.mark.postgres
def test_postgresql_application_role_cannot_rewrite_the_audit_trail(db: pw.Database) -> None:
    """docs/sql/postgresql-roles.sql as documented: the application still appends audit records
    (which moves the head), but cannot UPDATE, DELETE or TRUNCATE them."""
    from core import audit
    from core.clock import FrozenClock

    role = "sekap_app_security_test"
    db.execute_sql(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
    )
    script = (Path(__file__).parents[2] / "docs" / "sql" / "postgresql-roles.sql").read_text()
    owner = db.execute_sql("SELECT current_user").fetchone()[0]
    script = script.replace(':"app"', f'"{role}"').replace(':"owner"', f'"{owner}"')
    script = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))
    for statement in (s for s in script.split(";") if s.strip()):
        db.execute_sql(statement)
    db.execute_sql(f'SET ROLE "{role}"')
    try:
        with core_db.atomic():
            audit.record(FrozenClock(), actor="test", action="test.event", object_type="t", object_id=1)
        for attack in ("UPDATE audit_record SET actor = 'x'", "DELETE FROM audit_record", "TRUNCATE audit_record"):
            with pytest.raises(pw.ProgrammingError), core_db.atomic():
                db.execute_sql(attack)
    finally:
        db.execute_sql("RESET ROLE")
    assert audit.AuditRecord.select().count() == 1
