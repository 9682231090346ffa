"""OCSP and TSA under every candidate server, for both kinds of client, against the real peers, in one run.

One command, rounds interleaved, ratios computed within the run (the machine is a shared 2-core
VM: read ratios, not absolute numbers):

    .venv/bin/python bench/protocol_bench.py [--seconds 3] [--rounds 2] [--write bench/results/protocol.md]

Targets, each started fresh per round on 127.0.0.1 and stopped after its measurements:

- ``sekap-trust serve`` with ``server.http_server = "granian"`` (production; services ocsp+tsa,
  SQLite, software key store, settings defaults for workers and threads);
- the same with ``"gunicorn"`` (the previous production server, config/gunicorn_conf.py);
- ``openssl ocsp -index ... -multi 2`` (the OCSP peer; same certificate and signer key type);
- certomancer's TimeStamper (the TSA peer, same TSA key) under granian like ours;
- the fixed-bytes falcon endpoint (bench/ocsp_apps.py ``ceiling_both``) under granian, gunicorn
  gthread (production config) and gunicorn sync: the HTTP ceiling of each server (gevent is
  left out: it is unsound for this app, whose sqlite3, psycopg2 and PKCS#11 calls block its hub,
  and under ``ab`` its ceiling answered one request in 3 s);
- nginx (Debian) as an HTTP cache in front of the granian app, for RFC 5019 GET requests (and
  plain POST proxying, which nginx does not cache, to show what a proxy in front costs);
- diagnostic: the production TSA without its token record (the cost of durability stays visible).

Clients: one connection per request (``ab -c4``) and kept connections (``wrk -t1``, 8
connections for OCSP and the ceiling, 16 for the TSA, whose group commit needs concurrency).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import Load, kept, per_connection  # noqa: E402
from ocsp_bench import check, free_port, prepare, wait_port  # noqa: E402

BIN = ROOT / ".venv" / "bin"
OCSP_REQ = "application/ocsp-request"
TSA_REQ = "application/timestamp-query"


@dataclass
class Target:
    """A server to start, and what to measure on it: (row name, client, url path, body, type)."""

    name: str
    start: Callable[[int], subprocess.Popen[bytes]]
    runs: list[tuple[str, str, str, str | None, str]]
    check: Callable[[int], None] | None = None
    port: int = 0
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and its whole session (workers, jobs, openssl -multi children)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=False).stdout.strip()
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True, check=False).stderr.strip()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {openssl}, {nginx}"
    )


NGINX_CONF = """
{user}
worker_processes auto;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    proxy_cache_path {tmp}/nginx-cache levels=1:2 keys_zone=ocsp:10m max_size=100m inactive=10m use_temp_path=off;
    upstream app {{ server 127.0.0.1:{app_port}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        # RFC 5019 GET: cached for as long as the responder's Cache-Control allows.
        location /ocsp/ {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache ocsp;
            proxy_cache_methods GET;
            proxy_cache_lock on;
            proxy_cache_use_stale updating;
        }}
        # Everything else (POST /ocsp, /tsa, ...) proxied, not cached; "= /ocsp" keeps nginx
        # from redirecting POST /ocsp to /ocsp/ (it does so for a prefix location with a slash).
        location = /ocsp {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, every target measured once per round")
    parser.add_argument("--concurrency", type=int, default=4, help="ab concurrency (one connection per request)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections for OCSP and the ceiling")
    parser.add_argument("--tsa-connections", type=int, default=16, help="wrk connections for the TSA")
    parser.add_argument("--only", action="append", help="run only targets whose name contains this")
    parser.add_argument("--workers", type=int, default=0, help="override server.workers (exploration)")
    parser.add_argument("--threads", type=int, default=0, help="override server.threads (exploration)")
    parser.add_argument("--write", default="", help="also write the report to this file")
    args = parser.parse_args()
    for tool in ("ab", "wrk", "openssl", "nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is required (Debian: apache2-utils, wrk, openssl, nginx)")

    tmp = Path(tempfile.mkdtemp(prefix="protocol-bench-"))
    running: list[subprocess.Popen[bytes]] = []
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEKAP_TRUST")}
        env.update(
            {
                "SEKAP_TRUST__DATABASE__URL": f"sqlite:///{tmp}/bench.db",
                "SEKAP_TRUST__KEYSTORE__BACKEND": "software",
                "SEKAP_TRUST__KEYSTORE__PATH": str(tmp / "keys"),
                "SEKAP_TRUST__KEYSTORE__PIN_FILE": "",
                "SEKAP_TRUST_KEYSTORE_PIN": secrets.token_urlsafe(24),
                "SEKAP_TRUST__SERVER__SERVICES": '["ocsp", "tsa"]',
                "SEKAP_TRUST__SERVER__RUN_JOBS": "false",
                "SEKAP_TRUST__SERVER__RUN_DIR": str(tmp / "run"),
                "SEKAP_TRUST__LOGGING__LEVEL": '"INFO"',
                "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}",
            }
        )
        if args.workers:
            env["SEKAP_TRUST__SERVER__WORKERS"] = str(args.workers)
        if args.threads:
            env["SEKAP_TRUST__SERVER__THREADS"] = str(args.threads)
        info = prepare(tmp, {k: v for k, v in env.items() if k.startswith("SEKAP_TRUST")}, 2000)
        signer = info["signer_cert"]
        export_tsa(env, tmp)
        from config.settings import load_settings

        server = load_settings(env=env).server
        query = tmp / "query.tsq"
        query.write_bytes(make_tsa_query())
        get_path = "/ocsp/" + urllib.parse.quote(base64.b64encode((tmp / "cached.der").read_bytes()).decode(), safe="")
        log = (tmp / "servers.log").open("ab")

        def popen(command: list[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
            process = subprocess.Popen(
                command, cwd=ROOT, env={**env, **(extra_env or {})}, stdout=log, stderr=log, start_new_session=True
            )
            running.append(process)
            return process

        def serve(kind: str) -> Callable[[int], subprocess.Popen[bytes]]:
            def start(port: int) -> subprocess.Popen[bytes]:
                return popen(
                    [str(BIN / "sekap-trust"), "serve"],
                    {"SEKAP_TRUST__SERVER__HTTP_SERVER": kind, "SEKAP_TRUST__SERVER__PORT": str(port)},
                )

            return start

        def granian(app: str) -> Callable[[int], subprocess.Popen[bytes]]:
            def start(port: int) -> subprocess.Popen[bytes]:
                return popen(
                    [str(BIN / "granian"), "--interface", "wsgi", "--factory", "--http", "1", "--no-ws",
                     "--workers", str(server.workers), "--blocking-threads", str(server.threads),
                     "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", app]
                )  # fmt: skip

            return start

        def gunicorn(app: str, *worker: str) -> Callable[[int], subprocess.Popen[bytes]]:
            def start(port: int) -> subprocess.Popen[bytes]:
                return popen(
                    [str(BIN / "gunicorn"), "-c", "python:config.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
                     "--no-control-socket", *worker, app]
                )  # fmt: skip

            return start

        def openssl(port: int) -> subprocess.Popen[bytes]:
            # `openssl ocsp -multi` calls setsid() itself; popen's new session is harmless.
            process = subprocess.Popen(
                ["openssl", "ocsp", "-index", str(tmp / "index.txt"), "-port", str(port), "-rsigner",
                 str(tmp / "signer.pem"), "-rkey", str(tmp / "signer.key"), "-CA", str(tmp / "issuing.pem"),
                 "-multi", "2", "-ndays", "1"],
                cwd=tmp, stdout=log, stderr=log,
            )  # fmt: skip
            running.append(process)
            return process

        def nginx_in_front(port: int) -> subprocess.Popen[bytes]:
            app_port = free_port()
            app = serve("granian")(app_port)
            wait_port(app_port)
            conf = tmp / "nginx.conf"
            shutil.rmtree(tmp / "nginx-cache", ignore_errors=True)
            user = "user root root;" if os.geteuid() == 0 else ""
            conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, app_port=app_port, port=port))
            proxy = popen(["nginx", "-p", str(tmp), "-e", str(tmp / "nginx-error.log"), "-c", str(conf)])
            targets_extra[port] = app
            return proxy

        targets_extra: dict[int, subprocess.Popen[bytes]] = {}
        ocsp_post = [
            ("OCSP cached POST", "ab", "/ocsp", "cached.der", OCSP_REQ),
            ("OCSP cached POST", "wrk", "/ocsp", "cached.der", OCSP_REQ),
            ("OCSP nonce POST", "ab", "/ocsp", "nonce.der", OCSP_REQ),
            ("OCSP nonce POST", "wrk", "/ocsp", "nonce.der", OCSP_REQ),
        ]
        tsa = [("TSA", "ab", "/tsa", "query.tsq", TSA_REQ), ("TSA", "wrk16", "/tsa", "query.tsq", TSA_REQ)]
        ocsp_get = [("OCSP cached GET", "ab", get_path, None, ""), ("OCSP cached GET", "wrk", get_path, None, "")]
        ceiling = [
            ("ceiling (fixed bytes)", "ab", "/ocsp", "cached.der", OCSP_REQ),
            ("ceiling (fixed bytes)", "wrk", "/ocsp", "cached.der", OCSP_REQ),
        ]

        def ocsp_check(nonce_too: bool = True) -> Callable[[int], None]:
            def run(port: int) -> None:
                check(port, (tmp / "cached.der").read_bytes(), signer, nonce=False)  # type: ignore[arg-type]
                if nonce_too:
                    check(port, (tmp / "nonce.der").read_bytes(), signer, nonce=True)  # type: ignore[arg-type]

            return run

        targets = [
            Target("sekap-trust granian", serve("granian"), [*ocsp_post, *ocsp_get, *tsa], ocsp_check()),
            Target("sekap-trust gunicorn gthread", serve("gunicorn"), [*ocsp_post, *tsa[1:]], ocsp_check()),
            Target("openssl ocsp -multi 2", openssl, ocsp_post[:2], None),
            Target("openssl ocsp -multi 2", openssl, ocsp_post[2:], None),
            Target("nginx + sekap-trust granian", nginx_in_front, [*ocsp_get, ocsp_post[0]], ocsp_check()),
            Target("certomancer (granian)", granian("tsa_apps:certomancer"), tsa[1:], None),
            Target("diagnostic: TSA without record (granian)", granian("tsa_apps:tsa_no_record"), tsa[1:], None),
            Target("ceiling granian", granian("bench.ocsp_apps:ceiling_both"),
                   [*ceiling, ("ceiling (fixed bytes)", "wrk16", "/tsa", "query.tsq", TSA_REQ)], None),
            Target("ceiling gunicorn gthread", gunicorn("bench.ocsp_apps:ceiling_both()"), ceiling, None),
            Target("ceiling gunicorn sync", gunicorn("bench.ocsp_apps:ceiling_both()", "-k", "sync"), ceiling, None),
        ]  # fmt: skip
        if args.only:
            targets = [t for t in targets if any(o in t.name for o in args.only)]

        results: dict[tuple[str, str, str], list[Load]] = {}
        tokens_checked: list[str] = []
        for round_no in range(args.rounds):
            for target in targets:
                port = free_port()
                process = target.start(port)
                try:
                    wait_port(port)
                    if target.check:
                        target.check(port)
                    for row, client, path, body, content_type in target.runs:
                        body_path = tmp / body if body else None
                        url = f"http://127.0.0.1:{port}{path}"
                        counted = target.name == "sekap-trust granian" and row == "TSA"
                        before = count_tokens(env) if counted else 0
                        if target.name.startswith("openssl") and client != "ab":
                            stop(process)  # its -multi children break after a keep-alive client leaves
                            process = target.start(port)
                            wait_port(port)
                        load = measure(client, url, body_path, content_type, args, tmp, warm=target.name)
                        if counted:
                            recorded = count_tokens(env) - before
                            if recorded < load.requests:
                                raise SystemExit(f"TSA: {recorded} tokens recorded for {load.requests} answered")
                            tokens_checked.append(f"{load.requests} answered / {recorded} recorded ({client})")
                        results.setdefault((row, target.name, client), []).append(load)
                        print(f"round {round_no + 1} {target.name:45} {row:22} {client:5} {load.rps:8.0f}/s "
                              f"p99 {load.p99_ms:6.1f} ms errors {load.errors}", file=sys.stderr)  # fmt: skip
                finally:
                    stop(process)
                    if port in targets_extra:
                        stop(targets_extra.pop(port))
        report = render(results, args, server, tokens_checked)
        print(report)
        if args.write:
            Path(args.write).write_text(report)
        return 0
    finally:
        for process in running:
            stop(process)
        if os.environ.get("BENCH_KEEP_TMP"):
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def measure(
    client: str, url: str, body: Path | None, content_type: str, args: argparse.Namespace, tmp: Path, warm: str
) -> Load:
    if client == "ab":
        if not warm.startswith("openssl"):
            per_connection(url, 1, args.concurrency, body, content_type)  # warm-up: imports, first queries
        return per_connection(url, args.seconds, args.concurrency, body, content_type)
    connections = args.tsa_connections if client == "wrk16" else args.connections
    if not warm.startswith("openssl"):
        kept(url, 1, connections, body, content_type, tmp)
    return kept(url, args.seconds, connections, body, content_type, tmp)


def export_tsa(env: dict[str, str], tmp: Path) -> None:
    """The TSA certificate and key for certomancer (only into the bench's temporary directory)."""
    export = (
        "from config.settings import load_settings; from hsm.factory import open_key_store; "
        "from core import db; from ca.hierarchy import authority; "
        "from cryptography.hazmat.primitives import serialization as s; import sys; "
        "st = load_settings(); db.bind(db.open_database(st.database.url)); "
        "row = authority(st.ca.tsa.name); key = open_key_store(st.keystore).find(row.key_label); "
        "open(sys.argv[1], 'wb').write(key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption())); "
        "from cryptography import x509; "
        "cert = x509.load_der_x509_certificate(bytes(row.certificate_der)); "
        "open(sys.argv[2], 'wb').write(cert.public_bytes(s.Encoding.PEM))"
    )
    key_pem, cert_pem = tmp / "tsa-key.pem", tmp / "tsa-cert.pem"
    subprocess.run([sys.executable, "-c", export, str(key_pem), str(cert_pem)], cwd=ROOT, env=env, check=True)
    env["BENCH_TSA_KEY"], env["BENCH_TSA_CERT"], env["BENCH_TMP"] = str(key_pem), str(cert_pem), str(tmp)


def make_tsa_query() -> bytes:
    import hashlib

    from asn1crypto import algos, core, tsp

    imprint = {
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256", "parameters": core.Null()}),
        "hashed_message": hashlib.sha256(b"benchmark document").digest(),
    }
    return tsp.TimeStampReq(
        {"version": 1, "message_imprint": imprint, "nonce": secrets.randbits(63), "cert_req": True}
    ).dump()


def count_tokens(env: dict[str, str]) -> int:
    from core import db as core_db
    from tsa.models import TSAToken

    database = core_db.open_database(env["SEKAP_TRUST__DATABASE__URL"])
    core_db.bind(database)
    try:
        with core_db.connection():
            return int(TSAToken.select().count())
    finally:
        database.close()


CLIENTS = {"ab": "per connection (ab -c{c})", "wrk": "kept (wrk -c{k})", "wrk16": "kept (wrk -c{t})"}


def render(
    results: dict[tuple[str, str, str], list[Load]],
    args: argparse.Namespace,
    server: object,
    tokens_checked: list[str],
) -> str:
    def med(key: tuple[str, str, str]) -> Load | None:
        loads = results.get(key)
        if not loads:
            return None
        return Load(
            median(x.rps for x in loads),
            median(x.p50_ms for x in loads),
            max(x.p99_ms for x in loads),
            sum(x.requests for x in loads),
            sum(x.errors for x in loads),
        )

    label = {k: v.format(c=args.concurrency, k=args.connections, t=args.tsa_connections) for k, v in CLIENTS.items()}
    lines = [
        "# Protocol lane: servers, clients and peers in one run",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; machine: {machine()}",
        f"- command: `.venv/bin/python bench/protocol_bench.py --seconds {args.seconds} --rounds {args.rounds}`",
        f"- sekap-trust: `sekap-trust serve`, services ocsp+tsa, SQLite, workers={getattr(server, 'workers', '?')}, "
        f"threads={getattr(server, 'threads', '?')} (settings defaults), logging INFO (JSON access lines)",
        f"- rounds: {args.rounds}, targets interleaved; requests/s is the median over rounds (every round listed), "
        "p99 the worst round",
        "",
        "| scenario | target | client | requests/s | p50 ms | p99 ms | errors | rounds |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for row, name, client in sorted(results, key=lambda k: (k[0], k[2], -med(k).rps)):  # type: ignore[union-attr]
        m = med((row, name, client))
        assert m is not None
        rounds = [round(x.rps) for x in results[(row, name, client)]]
        lines.append(
            f"| {row} | {name} | {label[client]} | {m.rps:.0f} | {m.p50_ms:.2f} | {m.p99_ms:.1f} | {m.errors} | "
            f"{rounds} |"
        )
    lines += ["", "## Targets (ratios within this run)", "", "| goal | measured | met? |", "|---|---|---|"]

    def ratio(a: tuple[str, str, str], b: tuple[str, str, str]) -> float | None:
        x, y = med(a), med(b)
        return x.rps / y.rps if x and y and y.rps else None

    def goal(text: str, key: tuple[str, str, str], peer: tuple[str, str, str], want: float) -> None:
        r = ratio(key, peer)
        m = med(key)
        if r is None or m is None:
            return
        ok = r >= want and m.p99_ms < 20
        lines.append(f"| {text} ≥ {want}×, p99 < 20 ms | {r:.2f}×, p99 {m.p99_ms:.1f} ms | {'yes' if ok else 'NO'} |")

    ours, old, peer = "sekap-trust granian", "sekap-trust gunicorn gthread", "openssl ocsp -multi 2"
    for name in (ours, old):
        goal(f"OCSP cached POST, per connection, {name} / openssl", ("OCSP cached POST", name, "ab"),
             ("OCSP cached POST", peer, "ab"), 1.0)  # fmt: skip
        goal(f"OCSP cached POST, kept, {name} / openssl", ("OCSP cached POST", name, "wrk"),
             ("OCSP cached POST", peer, "wrk"), 2.0)  # fmt: skip
        goal(f"OCSP nonce POST, per connection, {name} / openssl", ("OCSP nonce POST", name, "ab"),
             ("OCSP nonce POST", peer, "ab"), 0.7)  # fmt: skip
        goal(f"TSA (durably recorded), kept, {name} / certomancer", ("TSA", name, "wrk16"),
             ("TSA", "certomancer (granian)", "wrk16"), 10.0)  # fmt: skip
        goal(f"TSA (durably recorded), kept, {name} / new ceiling (granian)", ("TSA", name, "wrk16"),
             ("ceiling (fixed bytes)", "ceiling granian", "wrk16"), 0.5)  # fmt: skip
    for client in ("ab", "wrk"):
        r = ratio(("ceiling (fixed bytes)", "ceiling granian", client),
                  ("ceiling (fixed bytes)", "ceiling gunicorn gthread", client))  # fmt: skip
        if r:
            lines.append(f"| new ceiling (granian) / gunicorn gthread ceiling, {label[client]} | {r:.2f}× | — |")
    if tokens_checked:
        lines += ["", f"Every answered TSA request of the production runs left a `tsa_token` row: {tokens_checked}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
