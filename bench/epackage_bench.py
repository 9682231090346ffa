"""E-package verification latency: an ASiC-E of 20 files with one XAdES B-T signature (timestamp
from our TSA), verified in process through the real REST app (scope check, ZIP reading within the
limits, XAdES + timestamp validation, revocation from our database, per-file coverage, JSON).

    .venv/bin/python bench/epackage_bench.py [--iterations 200] [--file-bytes 20000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--file-bytes", type=int, default=20_000)
    args = parser.parse_args()

    from falcon import testing

    from bench.inprocess import bench_pki
    from config.app import create_app
    from epackage import Signer, pack_and_sign
    from tests.epackage.conftest import InProcessTSA
    from tests.tsa.conftest import AlwaysSynced, make_service
    from tests.verifier.helpers import PORTAL, PrincipalMiddleware

    setup = bench_pki("epackage-bench-")
    settings, database, clock = setup.settings, setup.database, setup.clock
    key_store, pki, citizen = setup.key_store, setup.pki, setup.citizen
    tsa = InProcessTSA(make_service(pki, clock, key_store, AlwaysSynced(), require_ntp_sync=True))
    line = "<pole>Wniosek o wydanie zaświadczenia — treść formularza.</pole>\n".encode()
    files = {
        f"formularz-{i:02d}.xml": b"<formularz>\n" + line * (args.file_bytes // len(line)) + b"</formularz>\n"
        for i in range(args.files)
    }
    package = pack_and_sign(files, Signer(citizen.key, citizen.cert), timestamper=tsa, at=clock.now())
    database.close()

    app = create_app(settings, ["verifier"], clock=clock, key_store=key_store, database=database)
    app.add_middleware(PrincipalMiddleware(PORTAL))
    client = testing.TestClient(app)
    headers = {"Content-Type": "application/vnd.etsi.asic-e+zip"}
    for _ in range(5):
        client.simulate_post("/api/v1/verifications", body=package, headers=headers)
    load_before = load_average()
    timings = []
    started = time.perf_counter()
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        result = client.simulate_post("/api/v1/verifications", body=package, headers=headers)
        timings.append((time.perf_counter() - t0) * 1000)
        body = result.json
        assert result.status_code == 200 and body["indication"] == "TOTAL_PASSED", result.text[:300]
        assert body["signatures"][0]["level"] == "B-T" and len(body["package"]["files"]) == args.files
    elapsed = time.perf_counter() - started
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(
        f"machine: {os.cpu_count()} CPUs; Python {platform.python_version()}; load average before {load_before}, "
        f"after {load_average()}"
    )
    print(f"package: {args.files} files x ~{args.file_bytes} bytes, {len(package)} bytes zipped, one XAdES B-T")
    print("| iterations | verifications/s | p50 ms | p95 ms | max ms | goal p95 < 300 ms |")
    print("|---:|---:|---:|---:|---:|---|")
    print(
        f"| {args.iterations} | {args.iterations / elapsed:.1f} | {statistics.median(timings):.1f} | {p95:.1f} | "
        f"{timings[-1]:.1f} | {'met' if p95 < 300 else 'MISSED'} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
