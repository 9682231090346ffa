"""ca's schema steps."""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

from ca.models import (
    CRL,
    Authority,
    BulkRevocation,
    BulkRevocationItem,
    Certificate,
    CRLCounter,
    ProfileApproval,
    StatusCounter,
)
from core.migrations import Migration, create_tables


def _subject_ref_and_crls(db: pw.Database) -> None:
    # Step 1 creates ca_certificate from today's model on a fresh database; add the column only
    # where an older step 1 created the table without it.
    columns = {c.name for c in db.get_columns("ca_certificate")}
    if "subject_ref" not in columns:
        migrator = SchemaMigrator.from_database(db)
        migrate(
            migrator.add_column("ca_certificate", "subject_ref", pw.CharField(max_length=100, null=True)),
            migrator.add_index("ca_certificate", ("subject_ref",), False),
        )
    db.create_tables([CRLCounter, CRL], safe=False)


def _status_counter(db: pw.Database) -> None:
    # Step 2 creates ca_crl from today's model on a fresh database; add the column only where an
    # older step 2 created the table without it.
    if "status_changes" not in {c.name for c in db.get_columns("ca_crl")}:
        migrate(SchemaMigrator.from_database(db).add_column("ca_crl", "status_changes", pw.BigIntegerField(default=0)))
    db.create_tables([StatusCounter], safe=False)


MIGRATIONS = [
    Migration("ca", 1, "hierarchy and certificates", create_tables(Authority, Certificate)),
    Migration("ca", 2, "certificate subject reference, CRLs", _subject_ref_and_crls),
    Migration("ca", 3, "status change counter", _status_counter),
    Migration("ca", 4, "bulk revocation", create_tables(BulkRevocation, BulkRevocationItem)),
    Migration("ca", 5, "approved certificate profiles (dual control)", create_tables(ProfileApproval)),
]
