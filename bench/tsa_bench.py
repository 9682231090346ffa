"""TSA throughput and latency: sekap-trust POST /tsa vs the HTTP ceiling vs certomancer's TSA.

All three run one after another under the production gunicorn configuration
(config/gunicorn_conf.py: gthread, server.workers x server.threads from settings), loopback only,
driven by wrk with the same DER query (SHA-256 imprint, nonce, certReq). The TSA run uses the
real app factory (services=["tsa"]), a fresh database and the demo key ceremony in a temporary
directory; afterwards it checks that every answered request left a row in tsa_token.

    .venv/bin/python bench/tsa_bench.py [--seconds 15] [--connections 16] [--database-url URL]
                                        [--write bench/results/tsa.md]

--database-url: default a fresh SQLite file (the embedded default); a postgresql:// URL must
name an empty scratch database (its public schema is dropped and recreated).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_query() -> bytes:
    from asn1crypto import algos, core, tsp

    return tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256", "parameters": core.Null()}),
                "hashed_message": hashlib.sha256(b"benchmark document").digest(),
            },
            "nonce": secrets.randbits(63),
            "cert_req": True,
        }
    ).dump()


def post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/timestamp-query"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, bytes(response.read())


def granted(reply: bytes) -> bool:
    from asn1crypto import core, tsp

    outer = core.Sequence.load(reply)
    return bool(tsp.PKIStatusInfo.load(outer[0].dump())["status"].native == "granted" and len(outer) == 2)


def start(app: str, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        str(BIN / "gunicorn"),
        "--config",
        "python:config.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--pythonpath",
        str(ROOT / "bench"),
        app,
    ]
    with log.open("ab") as handle:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=handle, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(url: str, query: bytes, process: subprocess.Popen[bytes], log: Path) -> bytes:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early; see {log}:\n{log.read_text()[-3000:]}")
        try:
            status, body = post(url, query)
            if status == 200:
                return body
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server did not become ready; see {log}")


def wrk(url: str, script: Path, seconds: int, connections: int) -> tuple[int, float, float, float, int]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def percentile(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = 0
    patterns = (
        r"Non-2xx or 3xx responses: (\d+)",
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
    )
    for pattern in patterns:
        match = re.search(pattern, out)
        if match:
            errors += sum(int(g) for g in match.groups())
    return requests, rps, percentile("50"), percentile("99"), errors


def reset_postgres(url: str) -> None:
    import peewee as pw

    sys.path.insert(0, str(ROOT))
    from core.db import open_database

    database = open_database(url)
    assert isinstance(database, pw.PostgresqlDatabase)
    database.connect()
    database.execute_sql("DROP SCHEMA IF EXISTS public CASCADE")
    database.execute_sql("CREATE SCHEMA public")
    database.close()


def count_tokens(url: str) -> int:
    sys.path.insert(0, str(ROOT))
    from core import db as core_db
    from tsa.models import TSAToken

    database = core_db.open_database(url)
    core_db.bind(database)
    with core_db.connection():
        return int(TSAToken.select().count())


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} CPUs (nproc), {cpu}, {system}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--threads", type=int, default=0, help="override server.threads for all targets")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure every target this many times, interleaved; report the median"
    )
    parser.add_argument(
        "--diagnostic", action="store_true", help="also run the diagnostic variants of bench/tsa_apps.py"
    )
    parser.add_argument("--write", default="")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is required (apt-get install wrk)")

    with tempfile.TemporaryDirectory(prefix="tsa-bench-") as tmp_name:
        tmp = Path(tmp_name)
        db_url = args.database_url or f"sqlite:///{tmp}/bench.db"
        if db_url.startswith("postgres"):
            reset_postgres(db_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEKAP_TRUST")}
        env.update(
            {
                "SEKAP_TRUST__DATABASE__URL": db_url,
                "SEKAP_TRUST__KEYSTORE__BACKEND": "software",
                "SEKAP_TRUST__KEYSTORE__PATH": str(tmp / "keys"),
                "SEKAP_TRUST_KEYSTORE_PIN": secrets.token_urlsafe(24),
                "SEKAP_TRUST__SERVER__RUN_JOBS": "false",
                "SEKAP_TRUST__SERVER__SERVICES": '["tsa"]',
                "PYTHONPATH": str(ROOT),
            }
        )
        if args.threads:
            env["SEKAP_TRUST__SERVER__THREADS"] = str(args.threads)
        subprocess.run(
            [str(BIN / "sekap-trust"), "demo", "prepare"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
        # certomancer signs with the same TSA certificate and key (exported only into the temp dir).
        export = (
            "from config.settings import load_settings; from hsm.factory import open_key_store; "
            "from core import db; from ca.hierarchy import authority; "
            "from cryptography.hazmat.primitives import serialization as s; import sys; "
            "st = load_settings(); db.bind(db.open_database(st.database.url)); "
            "row = authority(st.ca.tsa.name); key = open_key_store(st.keystore).find(row.key_label); "
            "pem = key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()); "
            "open(sys.argv[1], 'wb').write(pem); "
            "from cryptography import x509; "
            "cert = x509.load_der_x509_certificate(bytes(row.certificate_der)); "
            "open(sys.argv[2], 'wb').write(cert.public_bytes(s.Encoding.PEM))"
        )
        key_pem, cert_pem = tmp / "tsa-key.pem", tmp / "tsa-cert.pem"
        subprocess.run([sys.executable, "-c", export, str(key_pem), str(cert_pem)], cwd=ROOT, env=env, check=True)
        env["BENCH_TSA_KEY"], env["BENCH_TSA_CERT"] = str(key_pem), str(cert_pem)
        env["BENCH_TMP"] = str(tmp)

        query = make_query()
        (tmp / "query.tsq").write_bytes(query)
        script = tmp / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/timestamp-query"\n'
            f'local f = io.open("{tmp / "query.tsq"}", "rb")\n'
            'wrk.body = f:read("*all")\nf:close()\n'
        )
        targets = [
            ("sekap-trust TSA", "config.wsgi:application()", True),
            ("HTTP ceiling (trivial falcon)", "tsa_apps:ceiling()", False),
            ("certomancer TimeStamper", "tsa_apps:certomancer()", True),
        ]
        if args.diagnostic:
            targets += [
                ("diagnostic: TSA resource without shared middleware", "tsa_apps:tsa_bare()", True),
                ("diagnostic: TSA without the token record", 'tsa_apps:tsa_record_variant("none")', True),
                ("diagnostic: record committed without fsync", 'tsa_apps:tsa_record_variant("no-fsync")', True),
                ("diagnostic: record as a file line + fdatasync", 'tsa_apps:tsa_record_variant("file-fsync")', True),
            ]
        runs: dict[str, list[Result]] = {name: [] for name, _app, _tsa in targets}
        for _round, (name, app, is_tsa) in ((r, t) for r in range(args.rounds) for t in targets):
            port = free_port()
            log = tmp / f"{app.split(':')[1].split('(')[0]}.log"
            process = start(app, env, port, log)
            url = f"http://127.0.0.1:{port}/tsa"
            try:
                first = wait_ready(url, query, process, log)
                if is_tsa and not granted(first):
                    raise SystemExit(f"{name}: the first answer is not a granted token")
                counted = app.startswith("config") or app.endswith("tsa_bare()") or "no-fsync" in app
                before = count_tokens(db_url) if counted else 0
                wrk(url, script, args.warmup, args.connections)
                requests, rps, p50, p99, errors = wrk(url, script, args.seconds, args.connections)
                if counted:
                    recorded = count_tokens(db_url) - before
                    print(
                        f"{name}: {recorded} tokens recorded for {requests} measured requests (plus warm-up)",
                        file=sys.stderr,
                    )
                    if recorded < requests:
                        raise SystemExit(f"{name}: fewer tokens recorded ({recorded}) than answered ({requests})")
                runs[name].append(Result(name, requests, args.seconds, rps, p50, p99, errors))
            finally:
                stop(process)

        # The machine is noisy (a 2-CPU VM): each target's median round by throughput.
        results = [sorted(runs[name], key=lambda r: r.rps)[len(runs[name]) // 2] for name, _app, _tsa in targets]
        spread = {name: [round(r.rps) for r in runs[name]] for name, _app, _tsa in targets}

    ours, ceiling, certomancer = results[:3]
    from config.settings import load_settings

    server = load_settings(env=env).server
    origin = "config/gunicorn_conf.py" + (", threads overridden" if args.threads else "")
    settings_line = f"gunicorn gthread, workers={server.workers}, threads={server.threads} ({origin})"
    db_kind = "PostgreSQL" if db_url.startswith("postgres") else "SQLite (WAL, synchronous=FULL)"
    lines = [
        f"Command: .venv/bin/python bench/tsa_bench.py {' '.join(sys.argv[1:])}".rstrip(),
        f"Machine: {machine()}",
        f"Server: {settings_line}; TSA database: {db_kind}; load: wrk -t1 -c{args.connections} "
        f"-d{args.seconds}s (after {args.warmup}s warm-up), same DER query (SHA-256, nonce, certReq).",
        f"Rounds: {args.rounds}, targets interleaved; the table shows each target's median round "
        f"(tokens/s of every round: {spread}).",
        "",
        "| target | requests | tokens/s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.name} | {r.requests} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} |")
    lines += [
        "",
        f"- sekap-trust / HTTP ceiling: **{ours.rps / ceiling.rps:.2f}x** (goal >= 0.5x)",
        f"- sekap-trust / certomancer: **{ours.rps / certomancer.rps:.1f}x** (goal >= 20x)",
    ]
    lines += [f"- {r.name} / HTTP ceiling: {r.rps / ceiling.rps:.2f}x" for r in results[3:]]
    table = "\n".join(lines)
    print(table)
    if args.write:
        Path(args.write).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
