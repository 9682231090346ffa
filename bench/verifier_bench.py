"""Verifier throughput: verifications/s and latency per format for a one-signature document.

In-process (falcon TestClient over the real app: auth scope check, body parsing, validation with
path building and revocation from our own database through the local OCSP source, JSON report).
SQLite in a temp dir, software key store, the real key ceremony. No network.

    .venv/bin/python bench/verifier_bench.py [--iterations 200]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()

    from falcon import testing

    from bench.inprocess import bench_pki
    from config.app import create_app
    from tests.verifier.helpers import PORTAL, PrincipalMiddleware, openssl_cms_sign
    from tests.verifier.pdfsign import pades_sign
    from tests.verifier.xmlsign import xades_sign

    setup = bench_pki("verifier-bench-")
    tmp, settings, database, clock = setup.tmp, setup.settings, setup.database, setup.clock
    key_store, citizen = setup.key_store, setup.citizen
    content = tmp / "content.txt"
    content.write_bytes("Wniosek o wydanie zaświadczenia.\n".encode() * 50)
    documents = {
        "CAdES (openssl, attached)": ("application/pkcs7-mime", openssl_cms_sign(citizen, content, attached=True)),
        "XAdES-BES (signxml, CRD form)": ("application/xml", xades_sign(citizen)),
        "PAdES B-B (pyHanko)": ("application/pdf", pades_sign(citizen)),
    }
    database.close()

    app = create_app(settings, ["verifier"], clock=clock, key_store=key_store, database=database)
    app.add_middleware(PrincipalMiddleware(PORTAL))
    client = testing.TestClient(app)

    rows = []
    for label, (media_type, body) in documents.items():
        for _ in range(5):  # warm-up (key lookup, imports, caches)
            client.simulate_post("/api/v1/verifications", body=body, headers={"Content-Type": media_type})
        timings = []
        started = time.perf_counter()
        for _ in range(args.iterations):
            t0 = time.perf_counter()
            result = client.simulate_post("/api/v1/verifications", body=body, headers={"Content-Type": media_type})
            timings.append((time.perf_counter() - t0) * 1000)
            assert result.status_code == 200 and result.json["indication"] == "TOTAL_PASSED", result.text[:300]
        elapsed = time.perf_counter() - started
        timings.sort()
        p95 = timings[int(0.95 * (len(timings) - 1))]
        rows.append((label, len(body), args.iterations / elapsed, statistics.median(timings), p95, timings[-1]))

    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    print(
        f"machine: {os.cpu_count()} CPUs, {cpu}; Python {platform.python_version()}; single process, in-process client"
    )
    print(f"iterations per format: {args.iterations}; revocation: local OCSP from the database (mode require)\n")
    print("| format | document bytes | verifications/s | p50 ms | p95 ms | max ms | goal p95 < 150 ms |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, size, rate, p50, p95, worst in rows:
        print(
            f"| {label} | {size} | {rate:.1f} | {p50:.1f} | {p95:.1f} | {worst:.1f} | "
            f"{'met' if p95 < 150 else 'MISSED'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
