"""examples/walkthrough.py against a live server (gunicorn) started here, credentials made with the
real CLI; the results are checked and the server's log is scanned for personal data."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path, Path]]:
    port = _free_port()
    database = tmp_path / "live.db"
    (tmp_path / "pin").write_text("walkthrough-keystore-passphrase\n")
    config = tmp_path / "live.toml"
    config.write_text(
        f'[server]\nservices = ["ca", "enrollment", "tsa", "verifier", "receipts"]\nrun_jobs = false\n'
        # The test machine's clock need not be NTP-synchronised (the guard is tested in tests/tsa).
        f"[tsa]\nrequire_ntp_sync = false\n"
        f'[database]\nurl = "sqlite:///{database}"\n'
        f'[keystore]\npath = "{tmp_path / "keys"}"\npin_file = "{tmp_path / "pin"}"\n'
        f'[ca]\npublic_base_url = "http://127.0.0.1:{port}"\ncps_uri = "http://127.0.0.1:{port}/docs/cps"\n'
        f"[enrollment.smtp]\nenabled = false\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEKAP_TRUST")}
    env["SEKAP_TRUST_CONFIG"] = str(config)
    subprocess.run([str(BIN / "sekap-trust"), "demo", "prepare"], check=True, env=env, cwd=REPO, capture_output=True)
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "config.wsgi:application()",
            ],
            env=env,
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if requests.get(base + "/healthz", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if server.poll() is not None:
                    raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
                time.sleep(0.1)
            yield base, env, database, log
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.mark.slow
def test_walkthrough_end_to_end(live_server: tuple[str, dict[str, str], Path, Path], tmp_path: Path) -> None:
    base, env, database, log = live_server
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "walkthrough.py"),
            "--base-url",
            base,
            "--out",
            str(out),
            "--cli",
            str(BIN / "sekap-trust"),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    expected = {
        "chain.pem",
        "citizen-csr.pem",
        "citizen-csr.key",
        "citizen-keygen.p12",
        "citizen-keygen.pin",
        "revoked.pem",
        "suspended.pem",
        "summary.json",
        "paczka.asice",
        "upo.xml",
        "upo.pdf",
    }
    assert expected <= {p.name for p in out.iterdir()}
    chain = x509.load_pem_x509_certificates((out / "chain.pem").read_bytes())
    assert len(chain) == 2 and chain[1].subject == chain[1].issuer and chain[0].issuer == chain[1].subject
    revoked = x509.load_pem_x509_certificate((out / "revoked.pem").read_bytes())
    suspended = x509.load_pem_x509_certificate((out / "suspended.pem").read_bytes())
    revoked.verify_directly_issued_by(chain[0])
    suspended.verify_directly_issued_by(chain[0])
    csr = x509.load_pem_x509_csr((out / "citizen-csr.pem").read_bytes())
    assert csr.public_key() == revoked.public_key()
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    assert load_pem_private_key((out / "citizen-csr.key").read_bytes(), None).public_key() == revoked.public_key()
    pin = (out / "citizen-keygen.pin").read_text().strip()
    key, cert, extra = pkcs12.load_key_and_certificates((out / "citizen-keygen.p12").read_bytes(), pin.encode())
    assert cert == suspended and key is not None and key.public_key() == cert.public_key() and len(extra) == 2
    summary = json.loads((out / "summary.json").read_text())
    statuses = [s["status"] for s in summary["steps"] if "status" in s]
    assert statuses and all(200 <= s < 300 or s == 404 for s in statuses)
    # The CA's registry agrees: one keyCompromise revocation, one hold.
    with sqlite3.connect(database) as conn:
        rows = dict(
            conn.execute("SELECT serial, revocation_reason FROM ca_certificate WHERE profile = 'citizen'").fetchall()
        )
    assert rows[f"{revoked.serial_number:X}".zfill(len(summary["revoked"]["serial"]))] == "keyCompromise"
    assert rows[summary["suspended"]["serial"]] == "certificateHold"
    # Nothing personal or secret in the server's log.
    text = log.read_text()
    assert "POST /api/v1/applications" in text
    for value in ("44051401359", "02211307589", "ABS123456", "ABA300000", pin):
        assert value not in text
