"""`sekap-trust` commands of the foundation: init, ca list, audit verify/seal, db."""

from __future__ import annotations

import io
import json

import peewee as pw

from config.cli import main
from config.runtime import Runtime
from config.settings import Settings
from core.audit import AuditRecord
from core.clock import FrozenClock
from hsm.base import KeyStore


def run(runtime: Runtime, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, runtime=runtime)
    return code, out.getvalue()


def test_init_list_verify_and_tamper(
    settings: Settings, db: pw.Database, clock: FrozenClock, key_store: KeyStore
) -> None:
    runtime = Runtime(settings, clock, key_store)
    code, text = run(runtime, "init")
    assert code == 0
    assert "root" in text and "SHA-256" in text and "key label" in text

    code, _ = run(runtime, "init")
    assert code == 1  # never overwrites
    code, text = run(runtime, "init", "--if-absent")
    assert code == 0 and "already exists" in text

    code, text = run(runtime, "ca", "list", "--json")
    listing = json.loads(text)
    assert {i["role"] for i in listing} == {"root", "issuing", "ocsp", "tsa", "audit", "receipts"}
    root = next(i for i in listing if i["role"] == "root")
    assert set(root) >= {"name", "role", "subject", "serial", "not_after", "certificate_url", "crl_url"}
    assert root["certificate_url"].endswith("/certs/root.crt") and root["crl_url"].endswith("/crl/root.crl")

    code, text = run(runtime, "audit", "seal")
    assert code == 0 and "sealed" in text
    code, text = run(runtime, "audit", "verify")
    assert code == 0 and "OK" in text

    AuditRecord.update(outcome="failure").where(AuditRecord.seq == 3).execute()
    code, text = run(runtime, "audit", "verify")
    assert code == 1 and "edited" in text and "at 3" in text


def test_db_status_and_upgrade(settings: Settings, db: pw.Database, clock: FrozenClock, key_store: KeyStore) -> None:
    runtime = Runtime(settings, clock, key_store)
    assert run(runtime, "db", "upgrade") == (0, "schema is up to date\n")
    assert run(runtime, "db", "status")[0] == 0
