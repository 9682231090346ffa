"""enrollment's schema steps."""

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

from core.migrations import Migration, create_tables
from enrollment.models import MODELS
from enrollment.totp import MODELS as TOTP_MODELS


def _point_details(db: pw.Database) -> None:
    """Opening hours, phone and a disabled flag for points (step 1 creates them in new databases)."""
    present = {c.name for c in db.get_columns("enrollment_point")}
    new = {
        "opening_hours": pw.CharField(max_length=200, default=""),
        "phone": pw.CharField(max_length=30, default=""),
        "disabled": pw.BooleanField(default=False),
    }
    migrator = SchemaMigrator.from_database(db)
    steps = [migrator.add_column("enrollment_point", name, field) for name, field in new.items() if name not in present]
    if steps:
        migrate(*steps)


MIGRATIONS = [
    Migration(
        "enrollment", 1, "points, officers, portal clients, applications, evidence, outbox", create_tables(*MODELS)
    ),
    Migration("enrollment", 2, "officers' TOTP second factor", create_tables(*TOTP_MODELS)),
    Migration("enrollment", 3, "points: opening hours, phone, disabled", _point_details),
]
