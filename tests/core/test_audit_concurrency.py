"""Several processes appending at once still form one unbroken chain (the head row is locked)."""

from __future__ import annotations

import multiprocessing

import peewee as pw

from core import audit
from core.audit import AuditRecord


def _writer(url: str, worker: int, count: int) -> None:
    from core import db as core_db
    from core.clock import SystemClock

    database = core_db.open_database(url)
    core_db.bind(database)
    clock = SystemClock()
    with core_db.connection():
        for i in range(count):
            with core_db.atomic():
                audit.record(clock, actor=f"test:w{worker}", action="thing.change", object_type="thing", object_id=i)


def test_concurrent_writers_form_one_chain(db: pw.Database, db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(db_url, w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    report = audit.verify_chain()
    assert report.ok, report.problems
    assert report.records == 100 == AuditRecord.select().count()
