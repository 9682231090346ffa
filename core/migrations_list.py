"""core's schema steps."""

from typing import Any

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

from core.approvals import ApprovalRequest, ApprovalVote
from core.audit import AuditHead, AuditRecord, AuditSeal
from core.job_runs import JobRun
from core.migrations import Migration, create_tables


def _chain_macs(db: Any) -> None:
    # Step 1 creates the tables from today's models on a fresh database; add the MAC columns only
    # where an older step 1 made them without.
    migrator = SchemaMigrator.from_database(db)
    for table in ("audit_record", "audit_head"):
        if "mac" not in {c.name for c in db.get_columns(table)}:
            migrate(migrator.add_column(table, "mac", pw.CharField(max_length=64, null=True)))


MIGRATIONS = [
    Migration("core", 1, "audit trail", create_tables(AuditRecord, AuditHead, AuditSeal)),
    Migration("core", 2, "keyed audit chain (record and head MACs)", _chain_macs),
    Migration("core", 3, "dual-control approvals", create_tables(ApprovalRequest, ApprovalVote)),
    Migration("core", 4, "periodic job runs", create_tables(JobRun)),
]
