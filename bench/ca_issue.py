"""Issuance throughput through the whole pipeline (validate → reserve + audit → pkilint on a
throwaway-signed copy → sign → TBS check → store + audit), on SQLite and PostgreSQL.

    .venv/bin/python bench/ca_issue.py [--count 300] [--workers 1,4] [--postgres postgresql://...]

Each worker is a separate process (as gunicorn workers are); the key store is the software store.
Goal: ≥ 50 certificates/s. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = b"bench-passphrase"
PUBLIC_URL = "http://pki.sekap-trust.eu"
CPS_URI = "http://pki.sekap-trust.eu/cps"


def _bind(url: str, *, reset: bool) -> object:
    from config.migrations import all_migrations
    from core import db as core_db
    from core.migrations import upgrade

    database = core_db.open_database(url)
    core_db.bind(database)
    database.connect()
    if reset and core_db.is_postgres():
        database.execute_sql("DROP SCHEMA IF EXISTS public CASCADE")
        database.execute_sql("CREATE SCHEMA public")
    if reset:
        upgrade(all_migrations())
    return database


def _worker(url: str, keys: str, count: int, barrier: object) -> float:
    """Issue ``count`` certificates; returns the CPU seconds this process spent on them."""
    try:
        return _timed(url, keys, count, barrier)
    except BaseException:
        barrier.abort()  # type: ignore[attr-defined]  # release the parent instead of hanging
        raise


def _timed(url: str, keys: str, count: int, barrier: object) -> float:
    from cryptography.hazmat.primitives.asymmetric import ec

    from ca.issuance import IssuancePipeline, IssueRequest, SubjectIdentity
    from ca.settings import CASettings
    from core.clock import SystemClock
    from hsm.software import SoftwareKeyStore

    _bind(url, reset=False)
    pipeline = IssuancePipeline(
        CASettings(public_base_url=PUBLIC_URL, cps_uri=CPS_URI), SoftwareKeyStore(keys, PASSPHRASE), SystemClock()
    )
    subject = SubjectIdentity("Jan", "Kowalski", pesel="44051401359", email="jan@example.com")
    public_keys = [ec.generate_private_key(ec.SECP256R1()).public_key() for _ in range(count)]
    # Warm-up outside the timing (pkilint builds its validators once per process).
    pipeline.issue(
        IssueRequest("citizen", subject, ec.generate_private_key(ec.SECP256R1()).public_key()), actor="bench"
    )
    barrier.wait()  # type: ignore[attr-defined]
    cpu = time.process_time()
    for key in public_keys:
        pipeline.issue(IssueRequest("citizen", subject, key), actor="bench")
    return time.process_time() - cpu


def measure(url: str, workers: int, count: int) -> tuple[float, float, float]:
    from ca.settings import CASettings
    from core.clock import FrozenClock
    from hsm.software import SoftwareKeyStore
    from tests.pki import build_pki

    with tempfile.TemporaryDirectory(prefix="sekap-bench-issue-") as tmp:
        keys = Path(tmp) / "keys"
        database = _bind(url, reset=True)
        build_pki(
            FrozenClock(datetime.now(UTC)),
            SoftwareKeyStore(keys, PASSPHRASE),
            CASettings(public_base_url=PUBLIC_URL, cps_uri=CPS_URI),
        )
        database.close()  # type: ignore[attr-defined]
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Manager().Barrier(workers + 1)
        per_worker = count // workers
        with ctx.Pool(workers) as pool:
            pending = pool.starmap_async(_worker, [(url, str(keys), per_worker, barrier)] * workers)
            try:
                barrier.wait(timeout=300)
            except threading.BrokenBarrierError:
                pending.get()  # re-raises the worker's error
                raise
            started = time.perf_counter()
            cpu = sum(pending.get())
            wall = time.perf_counter() - started
        return per_worker * workers / wall, wall, cpu / (per_worker * workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300, help="certificates per run")
    parser.add_argument("--workers", default="1,2", help="comma-separated process counts")
    parser.add_argument("--postgres", help="PostgreSQL URL of a scratch database (its schema is dropped!)")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory(prefix="sekap-bench-db-") as tmp:
        targets = [("SQLite", f"sqlite:///{tmp}/bench-{{workers}}.db")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, url in targets:
            for workers in (int(w) for w in args.workers.split(",")):
                rate, wall, cpu = measure(url.format(workers=workers), workers, args.count)
                runs.append((label, workers, args.count, wall, rate, cpu))
    print("Issuance through the whole pipeline (citizen profile, EC P-256 issuing CA, software key store)\n")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print(
        "| database | worker processes | certificates | wall (s) | certificates/s | worker CPU ms/cert | goal ≥ 50/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, workers, count, wall, rate, cpu in runs:
        verdict = "met" if rate >= 50 else "NOT met"
        print(f"| {label} | {workers} | {count} | {wall:.2f} | {rate:.1f} | {cpu * 1000:.1f} | {verdict} |")


if __name__ == "__main__":
    main()
