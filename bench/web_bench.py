"""Pages under load: p95 response time per page with 10 concurrent users (issue 14, item 8).

Starts the real server (gunicorn with the production config, 2 workers x 4 threads, jobs off) on
a fresh demo instance in a temporary directory (SQLite, software key store, the real ceremony),
logs 10 users in as administrators, and lets each walk the pages for --seconds: the start page,
the verification form, a verification of a signed CMS document (upload, validation with
revocation from our database, signed report), and the three administration pages, pausing
--think seconds between pages (a person reads a page; 0 turns the users into a closed-loop
stress test). Times are measured by the clients around each whole request over localhost, so
they bound the server time from above.

    .venv/bin/python bench/web_bench.py [--seconds 30] [--users 10] [--think 1.0]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PASSWORD = "Bench-haslo-2026"
USERS_MAX = 11  # one officer per simulated user (+1 for the warm-up): each enrols its own TOTP factor


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _instance(tmp: Path, port: int) -> dict[str, str]:
    (tmp / "pin").write_text("bench-keystore-passphrase\n")
    (tmp / "password").write_text(PASSWORD + "\n")
    (tmp / "sekap.toml").write_text(
        f"[server]\nport = {port}\nworkers = 2\nthreads = 4\nrun_jobs = false\n"
        f'[database]\nurl = "sqlite:///{tmp}/bench.db"\n'
        f'[keystore]\npath = "{tmp}/keys"\n'
        f'[ca]\npublic_base_url = "http://127.0.0.1:{port}"\n'
        '[web]\nsecure_cookies = false\n[logging]\nlevel = "WARNING"\n'
    )
    env = dict(os.environ, SEKAP_TRUST_CONFIG=str(tmp / "sekap.toml"), SEKAP_TRUST_KEYSTORE_PIN_FILE=str(tmp / "pin"))
    cli = [str(BIN / "sekap-trust")]
    subprocess.run([*cli, "demo", "prepare"], env=env, check=True, capture_output=True)
    for n in range(USERS_MAX):
        # ca_admin is granted under dual control: one administrator proposes, another approves.
        grant = subprocess.run(
            [*cli, "officer", "grant-role", "--username", f"bench.admin{n}", "--role", "ca_admin"],
            env=dict(env, LOGNAME="bench-proposer"),
            check=True,
            capture_output=True,
            text=True,
        )
        request_id = grant.stdout.split()[2]
        approver = dict(env, LOGNAME="bench-approver")
        subprocess.run([*cli, "approvals", "approve", request_id], env=approver, check=True, capture_output=True)
        subprocess.run(
            [
                *cli,
                "officer",
                "add",
                "--username",
                f"bench.admin{n}",
                "--role",
                "ca_admin",
                "--approval",
                request_id,
                "--password-file",
                str(tmp / "password"),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
    subprocess.run([*cli, "jobs", "run"], env=env, check=True, capture_output=True)  # CRLs, OCSP pre-signing
    return env


def _signed_document(tmp: Path, env: dict[str, str]) -> bytes:
    """A CMS document signed by a citizen certificate of the instance's CA."""
    from config.settings import load_settings
    from core import db as core_db
    from core.clock import SystemClock
    from hsm.factory import open_key_store
    from tests.pki import TestPKI
    from tests.verifier.helpers import issue_citizen, openssl_cms_sign

    settings = load_settings(env=env)
    database = core_db.open_database(settings.database.url)
    core_db.bind(database)
    database.connect()
    pki = TestPKI(settings.ca, open_key_store(settings.keystore), SystemClock())
    citizen = issue_citizen(pki, tmp / "citizen")
    database.close()
    content = tmp / "wniosek.txt"
    content.write_text("Wniosek o wydanie zaświadczenia.\n" * 50, encoding="utf-8")
    return openssl_cms_sign(citizen, content, attached=True)


def _log_in(session: requests.Session, base: str, username: str) -> str:
    """Password, then the TOTP enrolment the first log-in asks for (RFC 6238 code from the secret shown)."""
    import pyotp

    page = session.get(base + "/logowanie")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    login = session.post(base + "/logowanie", data={"csrf_token": token, "username": username, "password": PASSWORD})
    if login.url.endswith("/totp"):
        secret = re.search(r'id="secret">([A-Z2-7 ]+)<', login.text).group(1).replace(" ", "")  # type: ignore[union-attr]
        login = session.post(base + "/totp", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert login.url.endswith("/admin"), (login.status_code, login.url)
    return token


def _user(
    base: str,
    document: bytes,
    stop: float,
    timings: dict[str, list[float]],
    lock: threading.Lock,
    think: float = 0,
    username: str = "bench.admin0",
) -> None:
    session = requests.Session()
    token = _log_in(session, base, username)
    mine: dict[str, list[float]] = defaultdict(list)
    while time.monotonic() < stop:
        for name, call in (
            ("GET /", lambda: session.get(base + "/")),
            ("GET /weryfikacja", lambda: session.get(base + "/weryfikacja")),
            (
                "POST /weryfikacja (CAdES)",
                lambda: session.post(
                    base + "/weryfikacja",
                    data={"csrf_token": token},
                    files={"document": ("wniosek.p7m", document, "application/octet-stream")},
                ),
            ),
            ("GET /admin", lambda: session.get(base + "/admin")),
            ("GET /admin/audyt", lambda: session.get(base + "/admin/audyt")),
            ("GET /admin/zadania", lambda: session.get(base + "/admin/zadania")),
        ):
            t0 = time.perf_counter()
            response = call()
            mine[name].append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (name, response.status_code)
            if think:
                # Spread the pauses (0.5x to 1.5x) so users do not march in step.
                time.sleep(think * (0.5 + random.random()))
    with lock:
        for name, values in mine.items():
            timings[name].extend(values)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--users", type=int, default=10, choices=range(1, USERS_MAX))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="web-bench-"))
    port = _free_port()
    env = _instance(tmp, port)
    document = _signed_document(tmp, env)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", "python:config.gunicorn_conf", "config.wsgi:application()"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "gunicorn.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        # One warm-up walk per worker thread (template compilation, key loading, imports).
        warm_stop = time.monotonic() + 3
        _user(base, document, warm_stop, defaultdict(list), threading.Lock(), 0, f"bench.admin{USERS_MAX - 1}")
        timings: dict[str, list[float]] = defaultdict(list)
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds
        users = [
            threading.Thread(target=_user, args=(base, document, stop, timings, lock, args.think, f"bench.admin{n}"))
            for n in range(args.users)
        ]
        for user in users:
            user.start()
        for user in users:
            user.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"# pages, {args.users} concurrent users, think {args.think} s, {args.seconds:.0f} s, "
        "gunicorn 2 workers x 4 threads, SQLite"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load}")
    print("| page | requests | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    worst = 0.0
    for name, values in timings.items():
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))]
        worst = max(worst, p95)
        print(f"| {name} | {len(values)} | {statistics.median(values):.1f} | {p95:.1f} | {values[-1]:.1f} |")
    print(f"\nworst p95: {worst:.1f} ms ({'under' if worst < 100 else 'OVER'} the 100 ms target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
