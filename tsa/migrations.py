"""Schema steps of the TSA."""

from __future__ import annotations

from core.migrations import Migration, create_tables
from tsa.models import TSAHostState, TSAToken

MIGRATIONS = [
    Migration("tsa", 1, "tokens issued and clock guard state", create_tables(TSAToken, TSAHostState)),
]
