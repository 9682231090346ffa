"""Horizontal scale, shown: two OCSP/TSA hosts in network namespaces on one PostgreSQL, against one.

Needs root (``ip netns``), socat, wrk and a scratch PostgreSQL database whose ``public`` schema
is dropped and recreated (default: the one in SEKAP_TRUST_TEST_DATABASE_URL):

    sudo .venv/bin/python bench/scale_bench.py --database-url postgresql://postgres@127.0.0.1:5432/test_h7

Each host is `sekap-trust serve` (granian, services ocsp+tsa) in its own network namespace,
reached over a veth pair, pinned to one CPU (host A: CPU 0, host B: CPU 1), so that "a host" is
one core of this 2-core machine. PostgreSQL listens on 127.0.0.1 of the root namespace only; a
socat relay on each veth's root-side address forwards the hosts' connections to it. Rounds
alternate "host A alone", "host B alone" and "A and B together" (one wrk per host, started at
the same moment); the ratio is the aggregate over the mean of one host alone (the two CPUs are
not equally busy on a shared machine, so both are measured alone). The load generators run
unpinned in the root namespace.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import Load, kept  # noqa: E402
from ocsp_bench import prepare  # noqa: E402
from protocol_bench import OCSP_REQ, TSA_REQ, count_tokens, machine, make_tsa_query, stop  # noqa: E402

from tests.netns import Namespace  # noqa: E402

BIN = ROOT / ".venv" / "bin"
# host: its namespace (root-side veth address, namespace address) and the CPU it is pinned to
HOSTS = {
    "a": (Namespace("sekap-a", "vsekapa", "10.77.1.1", "10.77.1.2"), "0"),
    "b": (Namespace("sekap-b", "vsekapb", "10.77.2.1", "10.77.2.2"), "1"),
}
PORT = 8080


def reset_postgres(url: str) -> None:
    import peewee as pw

    from core.db import open_database

    database = open_database(url)
    assert isinstance(database, pw.PostgresqlDatabase)
    database.connect()
    database.execute_sql("DROP SCHEMA IF EXISTS public CASCADE")
    database.execute_sql("CREATE SCHEMA public")
    database.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("SEKAP_TRUST_TEST_DATABASE_URL", ""))
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8, help="wrk connections per host")
    parser.add_argument("--write", default="")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql://"):
        raise SystemExit("--database-url postgresql://... (a scratch database) is required")
    if os.geteuid() != 0:
        raise SystemExit("root is required for ip netns")
    for tool in ("ip", "socat", "wrk", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is required (Debian: iproute2, socat, wrk, util-linux)")
    db_host_port = args.database_url.split("@", 1)[1].split("/", 1)[0]
    db_port = db_host_port.rsplit(":", 1)[1] if ":" in db_host_port else "5432"
    tmp = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        reset_postgres(args.database_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEKAP_TRUST")}
        env.update(
            {
                "SEKAP_TRUST__DATABASE__URL": args.database_url,
                "SEKAP_TRUST__KEYSTORE__BACKEND": "software",
                "SEKAP_TRUST__KEYSTORE__PATH": str(tmp / "keys"),
                "SEKAP_TRUST__KEYSTORE__PIN_FILE": "",
                "SEKAP_TRUST_KEYSTORE_PIN": secrets.token_urlsafe(24),
                "SEKAP_TRUST__SERVER__SERVICES": '["ocsp", "tsa"]',
                "SEKAP_TRUST__SERVER__RUN_JOBS": "false",
                "SEKAP_TRUST__SERVER__WORKERS": "2",
                "SEKAP_TRUST__SERVER__PORT": str(PORT),
                "PYTHONPATH": str(ROOT),
            }
        )
        prepare(tmp, {k: v for k, v in env.items() if k.startswith("SEKAP_TRUST")}, 2000)
        (tmp / "query.tsq").write_bytes(make_tsa_query())
        for namespace, _cpu in HOSTS.values():
            namespace.create()
        log = (tmp / "hosts.log").open("ab")
        for name, (namespace, cpu) in HOSTS.items():
            processes.append(namespace.relay(int(db_port), f"127.0.0.1:{db_port}", tmp / "hosts.log"))
            host_env = {
                **env,
                "SEKAP_TRUST__DATABASE__URL": args.database_url.replace(db_host_port, f"{namespace.outer}:{db_port}"),
                "SEKAP_TRUST__SERVER__HOST": namespace.inner,
                "SEKAP_TRUST__SERVER__RUN_DIR": str(tmp / f"run-{name}"),
            }
            host = subprocess.Popen(
                [*namespace.exec_prefix, "taskset", "-c", cpu, str(BIN / "sekap-trust"), "serve"],
                env=host_env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
            processes.append(host)
        for namespace, _cpu in HOSTS.values():
            wait_http(f"http://{namespace.inner}:{PORT}/healthz")
        runs: dict[tuple[str, str], list[float]] = {}
        p99: dict[tuple[str, str], float] = {}
        tokens: list[str] = []
        scenarios = [("OCSP cached POST", "cached.der", OCSP_REQ, args.connections),
                     ("TSA", "query.tsq", TSA_REQ, 2 * args.connections)]  # fmt: skip
        for round_no in range(args.rounds):
            for scenario, body, content_type, connections in scenarios:
                for layout, hosts in (("host A alone", ["a"]), ("host B alone", ["b"]), ("two hosts", ["a", "b"])):
                    before = count_tokens(env) if scenario == "TSA" else 0
                    loads = drive(hosts, tmp / body, content_type, args.seconds, connections, tmp)
                    total = sum(load.rps for load in loads)
                    if scenario == "TSA":
                        answered = sum(load.requests for load in loads)
                        recorded = count_tokens(env) - before
                        if recorded < answered:
                            raise SystemExit(f"TSA: {recorded} tokens recorded for {answered} answered")
                        tokens.append(f"{layout}: {answered} answered / {recorded} recorded")
                    runs.setdefault((scenario, layout), []).append(total)
                    p99[(scenario, layout)] = max(p99.get((scenario, layout), 0.0), *(x.p99_ms for x in loads))
                    print(f"round {round_no + 1} {scenario:18} {layout:9} {total:8.0f}/s "
                          f"({', '.join(f'{x.rps:.0f}' for x in loads)}), errors {sum(x.errors for x in loads)}",
                          file=sys.stderr)  # fmt: skip
        report = render(runs, p99, tokens, args)
        print(report)
        if args.write:
            Path(args.write).write_text(report)
        return 0
    finally:
        for process in reversed(processes):
            stop(process)
        for namespace, _cpu in HOSTS.values():
            namespace.remove()
        shutil.rmtree(tmp, ignore_errors=True)


def wait_http(url: str, timeout: float = 90) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
            if answer.status == 200:
                time.sleep(2)  # every worker up
                return
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


def drive(hosts: list[str], body: Path, content_type: str, seconds: int, connections: int, tmp: Path) -> list[Load]:
    """One wrk per host, started together; warm-up first."""
    results: dict[str, Load] = {}

    def one(name: str, duration: int, keep: bool) -> None:
        url = f"http://{HOSTS[name][0].inner}:{PORT}{'/ocsp' if content_type == OCSP_REQ else '/tsa'}"
        scratch = tmp / name  # each wrk writes its own script
        scratch.mkdir(exist_ok=True)
        load = kept(url, duration, connections, body, content_type, scratch)
        if keep:
            results[name] = load

    for duration, keep in ((1, False), (seconds, True)):
        threads = [threading.Thread(target=one, args=(name, duration, keep)) for name in hosts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return [results[name] for name in hosts]


def render(
    runs: dict[tuple[str, str], list[float]],
    p99: dict[tuple[str, str], float],
    tokens: list[str],
    args: argparse.Namespace,
) -> str:
    lines = [
        "# Horizontal scale: two OCSP/TSA hosts (network namespaces) on one PostgreSQL",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; machine: {machine()}",
        f"- command: `.venv/bin/python bench/scale_bench.py --database-url postgresql://… --seconds {args.seconds} "
        f"--rounds {args.rounds}`",
        "- each host: `sekap-trust serve` (granian, 2 workers × 4 threads, services ocsp+tsa) in its own network "
        "namespace, pinned to one CPU (taskset); PostgreSQL 127.0.0.1 via a socat relay per veth; "
        f"load: one `wrk -t1` per host, kept connections ({args.connections} for OCSP, {2 * args.connections} for "
        "the TSA), unpinned in the root namespace",
        "",
        "| scenario | host A alone | host B alone | A and B together (aggregate) | aggregate / one host "
        "| aggregate / (A alone + B alone) | p99 ms (worst) | rounds (A, B, both) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for scenario in ("OCSP cached POST", "TSA"):
        a, b = runs.get((scenario, "host A alone")), runs.get((scenario, "host B alone"))
        two = runs.get((scenario, "two hosts"))
        if not a or not b or not two:
            continue
        one = (median(a) + median(b)) / 2
        worst = max(v for (name, _layout), v in p99.items() if name == scenario)
        lines.append(
            f"| {scenario} | {median(a):.0f} | {median(b):.0f} | {median(two):.0f} | {median(two) / one:.2f}× | "
            f"{median(two) / (median(a) + median(b)):.2f} | {worst:.1f} | "
            f"{[round(x) for x in a]}, {[round(x) for x in b]}, {[round(x) for x in two]} |"
        )
    if tokens:
        lines += ["", f"Every answered TSA request left a `tsa_token` row in PostgreSQL: {tokens}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    raise SystemExit(main())
