"""Every package's schema steps, in dependency order."""

from __future__ import annotations

from core.migrations import Migration


def all_migrations() -> list[Migration]:
    from ca.migrations import MIGRATIONS as ca
    from core.migrations_list import MIGRATIONS as core

    return [*core, *ca]
