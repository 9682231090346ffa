"""CRL with N revoked entries (default 1,000,000) read from the database, generated and signed:
sekap-trust's one-pass builder vs ``openssl ca -gencrl`` over the same entries and key type.

    .venv/bin/python bench/ca_crl.py [--entries 1000000] [--database postgresql://...]

Prints a Markdown table: wall time and peak RSS of each generator (each runs in its own child
process; RSS from wait4), and the DER size of the CRL. Also shows why the one-pass builder exists:
cryptography's CertificateRevocationListBuilder is quadratic in the number of entries.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = b"bench-passphrase"
REASONS = (None, "keyCompromise", "superseded", "cessationOfOperation", "affiliationChanged")


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
    upgrade(all_migrations())
    return database


def setup(url: str, keys: Path, entries: int) -> dict[str, object]:
    from ca.hierarchy import authority
    from ca.serials import to_hex
    from ca.settings import CASettings
    from core import db as core_db
    from core.clock import FrozenClock
    from hsm.software import SoftwareKeyStore
    from tests.pki import build_pki

    database = _bind(url, reset=True)
    now = datetime.now(UTC).replace(microsecond=0)
    settings = CASettings(public_base_url="http://pki.sekap-trust.eu")
    build_pki(FrozenClock(now - timedelta(days=1)), SoftwareKeyStore(keys, PASSPHRASE), settings)
    issuer_id = authority("citizens").id
    started = time.perf_counter()
    not_before = (now - timedelta(days=100)).replace(tzinfo=None)
    not_after = (now + timedelta(days=600)).replace(tzinfo=None)
    columns = (
        "issuer_id",
        "serial",
        "state",
        "profile",
        "subject",
        "tbs_der",
        "not_before",
        "not_after",
        "created_at",
        "issued_at",
        "revocation_reason",
        "revoked_at",
        "status_changed_at",
    )

    def rows():  # type: ignore[no-untyped-def]
        for i in range(entries):
            serial = secrets.randbits(159) | (1 << 100)
            revoked = (now - timedelta(seconds=i % 8_000_000)).replace(tzinfo=None)
            yield (
                issuer_id,
                to_hex(serial),
                "issued",
                "citizen",
                "CN=bench",
                b"",
                not_before,
                not_after,
                not_before,
                not_before,
                REASONS[i % len(REASONS)] or "unspecified",
                revoked,
                revoked,
            )

    if core_db.is_postgres():
        raw = database.connection()  # type: ignore[attr-defined]
        with raw.cursor() as cursor:
            buffer = io.StringIO()
            for i, row in enumerate(rows(), 1):
                buffer.write("\t".join("\\\\x" if isinstance(v, bytes) else str(v) for v in row) + "\n")
                if i % 100_000 == 0 or i == entries:  # bounded memory: COPY in chunks
                    buffer.seek(0)
                    cursor.copy_expert(f"COPY ca_certificate ({', '.join(columns)}) FROM STDIN", buffer)
                    buffer = io.StringIO()
        raw.commit()
    else:
        placeholders = ", ".join("?" for _ in columns)
        with database.atomic():  # type: ignore[attr-defined]
            cursor = database.cursor()  # type: ignore[attr-defined]
            batch: list[tuple[object, ...]] = []
            for row in rows():
                batch.append(row)
                if len(batch) == 50_000:
                    cursor.executemany(
                        f"INSERT INTO ca_certificate ({', '.join(columns)}) VALUES ({placeholders})", batch
                    )
                    batch = []
            if batch:
                cursor.executemany(f"INSERT INTO ca_certificate ({', '.join(columns)}) VALUES ({placeholders})", batch)
    inserted = time.perf_counter() - started
    database.close()  # type: ignore[attr-defined]
    return {"insert_seconds": inserted, "settings_url": settings.public_base_url}


def child_publish(url: str, keys: str) -> None:
    """Runs in a fresh process: publish one full CRL and report the time inside the process."""
    from ca.crl import CRLPublisher
    from ca.settings import CASettings
    from core.clock import SystemClock
    from hsm.software import SoftwareKeyStore

    _bind(url, reset=False)
    settings = CASettings(public_base_url="http://pki.sekap-trust.eu")
    publisher = CRLPublisher(settings, SoftwareKeyStore(keys, PASSPHRASE), SystemClock())
    started = time.perf_counter()
    row = publisher.publish("citizens", actor="bench")
    seconds = time.perf_counter() - started
    assert row is not None
    Path(keys, "crl.der").write_bytes(bytes(row.der))
    print(json.dumps({"seconds": seconds, "entries": row.entries, "size": len(bytes(row.der))}))


def run_measured(argv: list[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) of the child, its stdout.

    The child runs under GNU time: Linux carries a parent's peak RSS into a forked child across
    exec, so measuring a direct child of this (large) process would report our own peak."""
    report = Path(tempfile.mkstemp(prefix="sekap-bench-time-")[1])
    started = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-o", str(report), "-f", "%M", *argv], capture_output=True, cwd=cwd, check=False
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {proc.stderr.decode()[-2000:]}")
    peak_kib = int(report.read_text().split()[-1])
    report.unlink()
    return wall, peak_kib / 1024, proc.stdout.decode()


def openssl_inputs(url: str, keys: Path, work: Path) -> None:
    """index.txt with the same entries, the CA key/cert as PEM, a minimal openssl.cnf."""
    from cryptography.hazmat.primitives import serialization

    from ca.hierarchy import authority, load_certificate
    from ca.models import Certificate
    from core import db as core_db
    from hsm.software import SoftwareKeyStore

    _bind(url, reset=False)
    row = authority("citizens")
    key = SoftwareKeyStore(keys, PASSPHRASE).find(row.key_label)
    (work / "ca.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (work / "ca.pem").write_bytes(load_certificate(row).public_bytes(serialization.Encoding.PEM))
    query = Certificate.select(
        Certificate.serial, Certificate.not_after, Certificate.revoked_at, Certificate.revocation_reason
    ).where(
        (Certificate.issuer == row) & Certificate.revocation_reason.is_null(False) & (Certificate.profile == "citizen")
    )
    with (work / "index.txt").open("w") as index:
        for serial, not_after, revoked_at, reason in core_db.database.execute(query).fetchall():
            expiry = _asn1(not_after)
            revoked = _asn1(revoked_at) + ("" if reason == "unspecified" else f",{reason}")
            index.write(f"R\t{expiry}\t{revoked}\t{serial}\tunknown\t/CN=bench\n")
    (work / "index.txt.attr").write_text("unique_subject = no\n")
    (work / "crlnumber").write_text("1000\n")
    (work / "openssl.cnf").write_text(
        "[ca]\ndefault_ca = bench\n[bench]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\n"
        "default_crl_hours = 24\ncrl_extensions = crl_ext\n[crl_ext]\nauthorityKeyIdentifier = keyid:always\n"
    )


def _asn1(value: object) -> str:
    text = str(value)
    return text[2:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19] + "Z"


def builder_scaling() -> list[tuple[int, float]]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    results = []
    when = datetime(2026, 1, 1)
    for n in (10_000, 20_000, 40_000):
        started = time.perf_counter()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
            .last_update(when)
            .next_update(when + timedelta(days=1))
        )
        for i in range(n):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(i + 1).revocation_date(when).build()
            )
        builder.sign(key, hashes.SHA256())
        results.append((n, time.perf_counter() - started))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--child-publish", nargs=2, metavar=("URL", "KEYS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_publish:
        child_publish(*args.child_publish)
        return
    with tempfile.TemporaryDirectory(prefix="sekap-bench-crl-") as tmp:
        work = Path(tmp)
        keys = work / "keys"
        url = args.database or f"sqlite:///{work}/bench.db"
        info = setup(url, keys, args.entries)
        ours_wall, ours_rss, out = run_measured(
            [sys.executable, str(Path(__file__).resolve()), "--child-publish", url, str(keys)], cwd=ROOT
        )
        ours = json.loads(out.strip().splitlines()[-1])
        openssl_inputs(url, keys, work)
        ossl_wall, ossl_rss, _ = run_measured(
            [
                "openssl",
                "ca",
                "-gencrl",
                "-config",
                "openssl.cnf",
                "-keyfile",
                "ca.key",
                "-cert",
                "ca.pem",
                "-out",
                "crl.pem",
            ],
            cwd=work,
        )
        pem = (work / "crl.pem").read_text()
        ossl_der = base64.b64decode("".join(line for line in pem.splitlines() if not line.startswith("-----")))
        # Both CRLs must be valid and list the same number of entries.
        from cryptography import x509

        ours_crl = x509.load_der_x509_crl((keys / "crl.der").read_bytes())
        ossl_crl = x509.load_der_x509_crl(ossl_der)
        assert len(ours_crl) == len(ossl_crl) == args.entries, (len(ours_crl), len(ossl_crl))
        check = subprocess.run(
            [
                "openssl",
                "crl",
                "-inform",
                "DER",
                "-in",
                str(keys / "crl.der"),
                "-CAfile",
                str(work / "ca.pem"),
                "-noout",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert "verify OK" in check.stderr + check.stdout, check.stderr
        db_kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(f"CRL with {args.entries:,} revoked entries ({db_kind}, issuing CA key EC P-256, ecdsa-with-SHA256)\n")
        print(f"Bulk insert of the entries: {info['insert_seconds']:.1f} s (setup, not timed below)\n")
        print("| generator | time (s) | peak RSS (MiB) | CRL size (DER bytes) |")
        print("|---|---:|---:|---:|")
        print(
            "| sekap-trust CRLPublisher.publish (stream from DB, one pass, sign, verify, store) "
            f"| {ours['seconds']:.2f} (process {ours_wall:.2f}) | {ours_rss:.0f} | {ours['size']:,} |"
        )
        print(f"| openssl ca -gencrl (index.txt) | {ossl_wall:.2f} | {ossl_rss:.0f} | {len(ossl_der):,} |")
        print(
            f"\nratio sekap-trust/openssl: time {ours['seconds'] / ossl_wall:.2f} "
            f"(whole process {ours_wall / ossl_wall:.2f}), RSS {ours_rss / ossl_rss:.2f}, "
            f"size {ours['size'] / len(ossl_der):.6f} ({ours['size'] - len(ossl_der):+d} bytes; "
            "ours adds a Freshest CRL extension, ECDSA signatures vary by ±2)\n"
        )
        print("cryptography CertificateRevocationListBuilder.add_revoked_certificate (quadratic):\n")
        print("| entries | time (s) |")
        print("|---:|---:|")
        for n, seconds in builder_scaling():
            print(f"| {n:,} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
