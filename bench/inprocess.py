"""The in-process set-up the verifier and e-package benches share: a migrated SQLite database in a
temporary directory, the test PKI from the real ceremony, and one citizen certificate."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class BenchPKI:
    tmp: Path
    settings: Any
    database: Any
    clock: Any
    key_store: Any
    pki: Any
    citizen: Any


def bench_pki(prefix: str) -> BenchPKI:
    from config.migrations import all_migrations
    from config.settings import load_settings
    from core import db as core_db
    from core.clock import FrozenClock
    from core.migrations import upgrade
    from tests.pki import build_pki, software_store
    from tests.verifier.helpers import issue_citizen

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    url = f"sqlite:///{tmp}/bench.db"
    settings = load_settings(env={"SEKAP_TRUST__DATABASE__URL": url, "SEKAP_TRUST__KEYSTORE__PIN_FILE": ""})
    database = core_db.open_database(url)
    core_db.bind(database)
    database.connect()
    upgrade(all_migrations())
    clock = FrozenClock()
    key_store = software_store(tmp / "keys")
    pki = build_pki(clock, key_store)
    clock.advance(days=10)
    citizen = issue_citizen(pki, tmp / "citizen")
    return BenchPKI(tmp, settings, database, clock, key_store, pki, citizen)
