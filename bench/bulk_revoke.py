"""Bulk revocation of N certificates (default 100,000) end to end, as `cert revoke-bulk-run` does
it: plan (set fixed, approval requested), a second administrator approves, revoke in batches with
an audit record per certificate, then a full CRL and OCSP pre-signing for every certificate.

    .venv/bin/python bench/bulk_revoke.py [--count 100000] [--database postgresql://...]

The certificates are inserted directly (the bench measures revocation, not issuance). Prints one
Markdown table row per phase with wall time.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = b"bench-passphrase"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--database", default="")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    from ca import bulk
    from ca.crl import CRLPublisher
    from ca.hierarchy import authority
    from ca.models import Certificate
    from ca.serials import to_hex
    from ca.settings import CASettings
    from config.migrations import all_migrations
    from config.settings import load_settings
    from core import approvals, audit
    from core import db as core_db
    from core.clock import SystemClock
    from core.migrations import upgrade
    from hsm.software import SoftwareKeyStore
    from ocsp.directory import IssuerDirectory
    from ocsp.jobs import presign
    from tests.pki import build_pki

    tmp = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    url = args.database or f"sqlite:///{tmp}/bench.db"
    database = core_db.open_database(url)
    core_db.bind(database)
    database.connect()
    if core_db.is_postgres():
        database.execute_sql("DROP SCHEMA IF EXISTS public CASCADE")
        database.execute_sql("CREATE SCHEMA public")
    upgrade(all_migrations())
    audit.configure_chain_key(secrets.token_bytes(32))
    clock = SystemClock()
    settings = CASettings(public_base_url="http://pki.sekap-trust.eu")
    store = SoftwareKeyStore(tmp / "keys", PASSPHRASE)
    build_pki(clock, store, settings)
    issuer_id = authority("citizens").id
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [
        {
            "issuer": issuer_id,
            "serial": to_hex(secrets.randbits(159) | (1 << 100)),
            "state": "issued",
            "profile": "bench-batch",
            "subject": "CN=bench",
            "tbs_der": b"",
            "not_before": now - timedelta(days=1),
            "not_after": now + timedelta(days=700),
            "created_at": now - timedelta(days=1),
            "issued_at": now - timedelta(days=1),
        }
        for _ in range(args.count)
    ]
    with core_db.atomic():
        for start in range(0, len(rows), 1000):
            Certificate.insert_many(rows[start : start + 1000]).execute()

    timings: list[tuple[str, float]] = []

    def phase(name: str, started: float) -> float:
        now_ = time.perf_counter()
        timings.append((name, now_ - started))
        print(f"{name}: {now_ - started:.1f} s", file=sys.stderr)
        return now_

    t0 = t = time.perf_counter()
    planned = bulk.plan(
        settings, clock, bulk.Selection(profile="bench-batch"), "superseded", actor="cli:alice", required_approvals=1
    )
    approvals.approve(clock, planned.approval_id, actor="cli:bob")
    t = phase("plan + approve", t)
    result = bulk.run(settings, clock, planned.id, actor="cli:alice", batch_size=args.batch_size)
    assert result.revoked == args.count, result
    t = phase(f"revoke {args.count} (audited)", t)
    crl = CRLPublisher(settings, store, clock).publish("citizens", kind="full", actor="cli:alice")
    assert crl is not None and crl.entries >= args.count
    t = phase(f"full CRL ({crl.entries} entries)", t)
    ocsp_settings = load_settings(env={"SEKAP_TRUST__DATABASE__URL": url, "SEKAP_TRUST__KEYSTORE__PIN_FILE": ""}).ocsp
    report = presign(ocsp_settings, clock, IssuerDirectory(store.find, refresh_seconds=0))
    t = phase(f"OCSP pre-sign ({report.summary()})", t)
    total = time.perf_counter() - t0
    print(
        f"| {args.count} certificates, {'PostgreSQL' if core_db.is_postgres() else 'SQLite'} | "
        + " | ".join(f"{name}: {seconds:.1f} s" for name, seconds in timings)
        + f" | total {total:.1f} s |"
    )
    print("audit chain ok:", audit.verify_chain(key=audit.chain_key()).ok, file=sys.stderr)


if __name__ == "__main__":
    main()
