"""Receipts (UPO) at a fixed rate on SQLite, every receipt durably recorded before its answer.

In process through the real REST app: JSON parsing, the receipt-seal key (software store), our
TSA core called in process (its token recorded too), the receipt row and its audit record in one
transaction (SQLite WAL, synchronous=FULL), the XML answer. Requests are paced open-loop at
``--rate``; latency is measured from each request's scheduled start, so a slow request delays and
charges the ones behind it (no coordinated omission). At the end every answered receipt number
must be in the table.

    .venv/bin/python bench/receipts_bench.py [--rate 100] [--seconds 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8, help="request threads of the worker (gunicorn gthread)")
    parser.add_argument("--profile", action="store_true", help="cProfile the run (top 25)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key for --profile")
    args = parser.parse_args()

    from falcon import testing

    from config.app import create_app
    from config.migrations import all_migrations
    from config.settings import load_settings
    from core import db as core_db
    from core.auth import Principal
    from core.clock import SystemClock
    from core.migrations import upgrade
    from receipts.models import Receipt
    from tests.pki import build_pki, software_store
    from tests.verifier.helpers import PrincipalMiddleware

    tmp = Path(tempfile.mkdtemp(prefix="receipts-bench-"))
    url = f"sqlite:///{tmp}/bench.db"
    settings = load_settings(env={"SEKAP_TRUST__DATABASE__URL": url, "SEKAP_TRUST__KEYSTORE__PIN_FILE": ""})
    settings = replace(settings, tsa=replace(settings.tsa, require_ntp_sync=False))
    database = core_db.open_database(url)
    core_db.bind(database)
    database.connect()
    upgrade(all_migrations())
    clock = SystemClock()
    key_store = software_store(tmp / "keys")
    build_pki(clock, key_store)
    pragmas = {name: database.execute_sql(f"PRAGMA {name}").fetchone()[0] for name in ("journal_mode", "synchronous")}
    database.close()

    app = create_app(settings, ["receipts"], clock=clock, key_store=key_store, database=database)
    app.add_middleware(PrincipalMiddleware(Principal("portal", "bench", scopes=frozenset({"receipts"}))))
    client = testing.TestClient(app)
    headers = {"Content-Type": "application/json"}

    def body(i: int) -> str:
        return json.dumps(
            {
                "recipient": {"name": "Urząd Gminy Przykładowo", "identifier": "192598184", "identifier_type": "REGON"},
                "submission_number": str(100000 + i),
                "subject": "Wniosek o wydanie zaświadczenia",
                "package_sha256": hashlib.sha256(str(i).encode()).hexdigest(),
                "package_size": 4096,
            }
        )

    for i in range(10):  # warm-up: key lookup, imports
        client.simulate_post("/api/v1/receipts", body=body(-i - 1), headers=headers)
    count = int(args.rate * args.seconds)
    interval = 1.0 / args.rate
    latencies, numbers = [], []
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int, scheduled: float) -> tuple[float, str]:
        result = client.simulate_post("/api/v1/receipts", body=body(i), headers=headers)
        latency = (time.perf_counter() - scheduled) * 1000
        assert result.status_code == 201, result.text[:300]
        return latency, result.headers["receipt-number"]

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        futures = []
        for i in range(count):
            scheduled = start + i * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one, i, scheduled))
        for future in futures:
            latency, number = future.result()
            latencies.append(latency)
            numbers.append(number)
    elapsed = time.perf_counter() - start
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(25)
    database.connect(reuse_if_open=True)
    stored = {r.number for r in Receipt.select(Receipt.number).where(Receipt.number.in_(numbers))}
    assert stored == set(numbers), "an answered receipt is missing from the table"
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(
        f"machine: {os.cpu_count()} CPUs; Python {platform.python_version()}; SQLite {pragmas}; "
        f"load average before {load_before}, after {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    print(f"threads: {args.threads}")
    print("| offered rate | receipts | achieved/s | p50 ms | p99 ms | max ms | all stored | goal |")
    print("|---:|---:|---:|---:|---:|---:|---|---|")
    met = p99 < 50 and count / elapsed >= 0.98 * args.rate
    print(
        f"| {args.rate:.0f}/s | {count} | {count / elapsed:.1f} | {statistics.median(latencies):.1f} | {p99:.1f} | "
        f"{latencies[-1]:.1f} | yes ({len(stored)}) | {'met' if met else 'MISSED'} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
