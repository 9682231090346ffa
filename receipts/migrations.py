"""Schema steps of the receipt service."""

from __future__ import annotations

from core.migrations import Migration, create_tables
from receipts.models import Receipt

MIGRATIONS = [
    Migration("receipts", 1, "official receipts (UPO/UPD) as issued", create_tables(Receipt)),
]
