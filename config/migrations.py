"""Every package's schema steps, in dependency order."""

from __future__ import annotations

from access import migrations as access_steps
from ca import migrations as ca_steps
from core import migrations_list as core_steps
from core.migrations import Migration, sqlite_never_reuse_ids
from enrollment import migrations as enrollment_steps
from ocsp import migrations as ocsp_steps
from receipts import migrations as receipts_steps
from tsa import migrations as tsa_steps


def all_migrations() -> list[Migration]:
    return [
        *core_steps.MIGRATIONS,
        *ca_steps.MIGRATIONS,
        *ocsp_steps.MIGRATIONS,
        *tsa_steps.MIGRATIONS,
        *access_steps.MIGRATIONS,
        *enrollment_steps.MIGRATIONS,
        *receipts_steps.MIGRATIONS,
        # Last, over every package's tables: ids of deleted rows are never handed out again.
        Migration("config", 1, "ids never reused (SQLite AUTOINCREMENT)", sqlite_never_reuse_ids, rebuilds_tables=True),
    ]
