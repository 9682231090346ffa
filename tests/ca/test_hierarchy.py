"""The key ceremony (issue: foundation): hierarchy shape, profiles of CA/signer certificates,
refusal to overwrite, audit of every step, and acceptance by openssl."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ca.errors import HierarchyExistsError
from ca.hierarchy import Ceremony
from ca.models import Authority, Certificate
from ca.serials import to_hex
from core.audit import AuditRecord, verify_chain
from tests.pki import TestPKI


def test_ceremony_creates_the_whole_hierarchy(pki: TestPKI) -> None:
    roles = {row.name: row.role for row in Authority.select()}
    assert roles == {
        "root": "root",
        "citizens": "issuing",
        "root-ocsp": "ocsp",
        "citizens-ocsp": "ocsp",
        "tsa": "tsa",
        "audit": "audit",
        "receipt-seal": "receipts",
    }
    assert Certificate.select().count() == 7
    # Each key lives in the store under the recorded label.
    for row in Authority.select():
        assert (
            pki.key_store.public_key(row.key_label).public_numbers() == pki.cert(row.name).public_key().public_numbers()
        )


def test_receipt_seal_is_an_organisation_seal_from_the_root(pki: TestPKI) -> None:
    """EN 319 412-3: a legal-person seal; nonRepudiation + digitalSignature, no CA, no EKU."""
    seal = pki.cert("receipt-seal")
    seal.verify_directly_issued_by(pki.root)
    assert not seal.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert seal.extensions.get_extension_for_class(x509.CertificatePolicies)
    assert Certificate.get(Certificate.serial == to_hex(seal.serial_number)).profile == "organisation-seal"


def test_add_receipt_seal_to_an_older_hierarchy(pki: TestPKI) -> None:
    from ca.errors import HierarchyExistsError
    from ca.hierarchy import Ceremony

    ceremony = Ceremony(pki.settings, pki.key_store, pki.clock, actor="test:ceremony")
    with pytest.raises(HierarchyExistsError):
        ceremony.add_receipt_seal()
    Authority.delete().where(Authority.name == "receipt-seal").execute()
    pki.clock.advance(seconds=1)  # type: ignore[attr-defined]  # key labels carry the time
    (step,) = ceremony.add_receipt_seal()
    assert (step.name, step.role) == ("receipt-seal", "receipts")


def test_root_is_self_signed_ca_and_issuing_ca_is_bounded(pki: TestPKI) -> None:
    root, issuing = pki.root, pki.issuing
    assert root.subject == root.issuer
    bc = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    # RFC 5280 §4.2.1.9: the issuing CA signs end entities only.
    ibc = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert ibc.ca and ibc.path_length == 0
    assert issuing.not_valid_after_utc <= root.not_valid_after_utc
    issuing.verify_directly_issued_by(root)
    ku = issuing.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    # RFC 5280 §4.1.2.2: positive, at most 20 octets.
    for cert in (root, issuing):
        assert 0 < cert.serial_number < 2**159


def test_ocsp_signers_are_delegated_responders(pki: TestPKI) -> None:
    # RFC 6960 §4.2.2.2 (EKU id-kp-OCSPSigning) and §4.2.2.2.1 (id-pkix-ocsp-nocheck).
    for ca_name in ("root", "citizens"):
        cert = pki.cert(f"{ca_name}-ocsp")
        cert.verify_directly_issued_by(pki.cert(ca_name))
        assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.OCSP_SIGNING]
        )
        cert.extensions.get_extension_for_class(x509.OCSPNoCheck)


def test_tsa_certificate_has_only_critical_timestamping_eku(pki: TestPKI) -> None:
    # RFC 3161 §2.3
    eku = pki.cert("tsa").extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    pki.cert("tsa").extensions.get_extension_for_class(x509.CRLDistributionPoints)
    pki.cert("tsa").extensions.get_extension_for_class(x509.AuthorityInformationAccess)


def test_ceremony_refuses_to_overwrite(pki: TestPKI) -> None:
    before = set(pki.key_store.labels())
    with pytest.raises(HierarchyExistsError):
        Ceremony(pki.settings, pki.key_store, pki.clock, actor="test").run()
    assert Authority.select().count() == 7
    assert set(pki.key_store.labels()) == before


def test_every_step_is_audited_and_chain_verifies(pki: TestPKI) -> None:
    actions = [r.action for r in AuditRecord.select().order_by(AuditRecord.seq)]
    assert actions[0] == "ceremony.start" and actions[-1] == "ceremony.complete"
    assert actions.count("key.generate") == 7
    assert actions.count("certificate.issue") == 7
    assert verify_chain().ok


def test_openssl_accepts_the_issuing_ca(pki: TestPKI, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    root, _ = pki.write_chain(tmp_path)
    issuing = tmp_path / "issuing.pem"
    issuing.write_bytes(pki.issuing.public_bytes(Encoding.PEM))
    result = subprocess.run(
        ["openssl", "verify", "-x509_strict", "-CAfile", str(root), str(issuing)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": OK")
