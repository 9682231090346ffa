"""``sekap-trust cert ...`` and ``sekap-trust crl publish`` (administrators; audited)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import peewee as pw
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ca.models import CRL, Certificate
from config.cli import main
from config.runtime import Runtime
from config.settings import Settings
from core.audit import AuditRecord
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.ca.conftest import csr_for, ec_key
from tests.pki import build_pki


@pytest.fixture
def runtime(settings: Settings, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore) -> Runtime:
    build_pki(clock, key_store, settings.ca)
    return Runtime(settings, clock, key_store)


def run(runtime: Runtime, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, runtime=runtime)
    return code, out.getvalue()


def _files(tmp_path: Path, subject: dict[str, object]) -> tuple[str, str]:
    csr = tmp_path / "req.pem"
    csr.write_bytes(csr_for(ec_key()).public_bytes(Encoding.PEM))
    subject_file = tmp_path / "subject.json"
    subject_file.write_text(json.dumps(subject))
    return str(csr), str(subject_file)


def test_issue_prints_pem_and_is_audited(runtime: Runtime, tmp_path: Path) -> None:
    csr, subject = _files(tmp_path, {"given_name": "Jan", "surname": "Kowalski", "pesel": "44051401359"})
    code, out = run(runtime, "cert", "issue", "--csr", csr, "--profile", "citizen", "--subject-json", subject)
    assert code == 0
    cert = x509.load_pem_x509_certificate(out.encode())
    assert cert.subject.rfc4514_string().startswith("CN=Jan Kowalski")
    serial = f"{cert.serial_number:X}"
    record = AuditRecord.get((AuditRecord.action == "certificate.issue") & (AuditRecord.object_type == "certificate"))
    assert record.actor.startswith("cli:") and serial.lstrip("0") in record.object_id


def test_issue_reports_field_errors(runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csr, subject = _files(tmp_path, {"given_name": "Jan", "surname": "", "pesel": "44051401358"})
    code, out = run(runtime, "cert", "issue", "--csr", csr, "--subject-json", subject)
    assert code == 2 and out == ""
    err = capsys.readouterr().err
    assert "surname" in err and "pesel: PESEL has an invalid check digit" in err
    assert Certificate.select().where(Certificate.profile == "citizen").count() == 0
    bad_csr = tmp_path / "bad.pem"
    bad_csr.write_text("not a csr")
    assert run(runtime, "cert", "issue", "--csr", str(bad_csr), "--subject-json", subject)[0] == 2
    assert run(runtime, "cert", "issue", "--csr", str(tmp_path / "missing"), "--subject-json", subject)[0] == 2


def test_lifecycle_show_list_revoke_suspend_resume_and_crl(runtime: Runtime, tmp_path: Path) -> None:
    csr, subject = _files(tmp_path, {"given_name": "Anna", "surname": "Nowak", "id_card": "ABA300000"})
    _, pem = run(runtime, "cert", "issue", "--csr", csr, "--subject-json", subject)
    serial = f"{x509.load_pem_x509_certificate(pem.encode()).serial_number:X}"
    code, out = run(runtime, "cert", "show", serial, "--json")
    assert code == 0 and json.loads(out)["status"] == "valid"
    assert run(runtime, "cert", "show", serial, "--pem")[1] == pem
    assert run(runtime, "cert", "suspend", serial)[0] == 0
    assert json.loads(run(runtime, "cert", "show", serial.lower(), "--json")[1])["status"] == "suspended"
    listed = json.loads(run(runtime, "cert", "list", "--status", "suspended", "--json")[1])
    assert [item["serial"] for item in listed] == [
        json.loads(run(runtime, "cert", "show", serial, "--json")[1])["serial"]
    ]
    assert run(runtime, "cert", "resume", serial)[0] == 0
    code, out = run(runtime, "cert", "revoke", serial, "--reason", "keyCompromise")
    assert code == 0 and "keyCompromise" in out
    assert run(runtime, "cert", "revoke", serial, "--reason", "superseded")[0] == 1  # final
    assert run(runtime, "cert", "show", "ABCDEF")[0] == 1
    code, out = run(runtime, "crl", "publish", "--ca", "citizens")
    assert code == 0 and "full CRL 1" in out and "delta CRL 2" in out
    crl = x509.load_der_x509_crl(bytes(CRL.get(CRL.number == 1).der))
    assert len(list(crl)) == 1
    code, out = run(runtime, "crl", "publish")
    assert code == 0 and "root:" in out


def test_ca_list_and_init_still_work(runtime: Runtime) -> None:
    code, out = run(runtime, "ca", "list", "--json")
    assert code == 0 and {item["name"] for item in json.loads(out)} >= {"root", "citizens"}
    assert run(runtime, "init", "--if-absent")[0] == 0


def test_init_publishes_the_first_crls(
    settings: Settings, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore
) -> None:
    runtime = Runtime(settings, clock, key_store)
    code, out = run(runtime, "init")
    assert code == 0 and "published the full CRL 1 of citizens" in out
    kinds = {(row.issuer.name, row.kind) for row in CRL.select()}
    assert kinds == {("root", "full"), ("root", "delta"), ("citizens", "full"), ("citizens", "delta")}


def test_add_receipt_seal_to_an_older_hierarchy(runtime: Runtime, clock: FrozenClock) -> None:
    from ca.models import Authority

    Authority.delete().where(Authority.name == "receipt-seal").execute()
    clock.advance(seconds=1)  # key labels carry the time
    code, out = run(runtime, "ca", "add-receipt-seal")
    assert code == 0 and "receipt-seal" in out
    assert Authority.get(Authority.name == "receipt-seal").role == "receipts"
    assert AuditRecord.select().where(AuditRecord.object_id == "receipt-seal").count() >= 2
