"""access's schema steps.

Step 1 adopts the tables that enrollment's step 1 created in databases made before access was
its own package (same names, same columns) and creates them in new databases, where it runs
before enrollment's steps (config/migrations.py orders packages by dependency)."""

from __future__ import annotations

import peewee as pw

from access.models import MODELS
from core.migrations import Migration


def _adopt_or_create(db: pw.Database) -> None:
    db.create_tables(list(MODELS), safe=True)


MIGRATIONS = [
    Migration("access", 1, "officers, officer sessions, portal clients (adopted from enrollment 1)", _adopt_or_create),
]
