"""core's schema steps."""

from core.audit import AuditHead, AuditRecord, AuditSeal
from core.migrations import Migration, create_tables

MIGRATIONS = [
    Migration("core", 1, "audit trail", create_tables(AuditRecord, AuditHead, AuditSeal)),
]
