"""Relying-party tools agree with our certificates and CRLs: OpenSSL and GnuTLS certtool
(RFC 5280 §6.3 CRL validation). These tools are required: the tests fail if they are missing."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ca.crl import CRLPublisher
from ca.issuance import IssuancePipeline
from ca.models import CRL
from ca.revocation import RevocationService
from core.clock import FrozenClock
from tests.ca.conftest import citizen_request
from tests.pki import TestPKI

pytestmark = pytest.mark.interop


@pytest.fixture
def clock() -> FrozenClock:
    # certtool has no --attime: run the CA at the real time so CRLs are current for every tool.
    return FrozenClock(datetime.now(UTC))


def _pem_crl(row: CRL | None) -> bytes:
    assert row is not None
    return x509.load_der_x509_crl(bytes(row.der)).public_bytes(Encoding.PEM)


@pytest.fixture
def setup(pipeline: IssuancePipeline, ca_pki: TestPKI, tmp_path: Path) -> dict[str, Path]:
    good = pipeline.issue(citizen_request(), actor="t")
    revoked = pipeline.issue(citizen_request(), actor="t")
    held = pipeline.issue(citizen_request(), actor="t")
    service = RevocationService(ca_pki.settings, ca_pki.clock)
    service.revoke("citizens", revoked.serial, "keyCompromise", actor="t")
    service.suspend("citizens", held.serial, actor="t")
    publisher = CRLPublisher(ca_pki.settings, ca_pki.key_store, ca_pki.clock)
    files = {
        "root": tmp_path / "root.pem",
        "issuing": tmp_path / "issuing.pem",
        "crls": tmp_path / "crls.pem",
        "citizens_crl": tmp_path / "citizens-crl.pem",
        "root_crl": tmp_path / "root-crl.pem",
    }
    files["root"].write_bytes(ca_pki.root.public_bytes(Encoding.PEM))
    files["issuing"].write_bytes(ca_pki.issuing.public_bytes(Encoding.PEM))
    files["citizens_crl"].write_bytes(_pem_crl(publisher.publish("citizens", actor="t")))
    files["root_crl"].write_bytes(_pem_crl(publisher.publish("root", actor="t")))
    files["crls"].write_bytes(files["citizens_crl"].read_bytes() + files["root_crl"].read_bytes())
    for name, cert in (("good", good), ("revoked", revoked), ("held", held)):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_bytes(cert.pem)
    return files


def _openssl_verify(files: dict[str, Path], leaf: str) -> subprocess.CompletedProcess[str]:
    # The frozen test clock is in the past; -attime pins verification to it.
    return subprocess.run(
        [
            "openssl",
            "verify",
            "-crl_check_all",
            "-CAfile",
            str(files["root"]),
            "-untrusted",
            str(files["issuing"]),
            "-CRLfile",
            str(files["crls"]),
            "-attime",
            str(_at),
            str(files[leaf]),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


_at = 0


@pytest.fixture(autouse=True)
def _attime(ca_pki: TestPKI) -> None:
    global _at
    _at = int(ca_pki.clock.now().timestamp()) + 60


def test_openssl_accepts_good_and_rejects_revoked_and_held(setup: dict[str, Path]) -> None:
    ok = _openssl_verify(setup, "good")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for leaf in ("revoked", "held"):
        bad = _openssl_verify(setup, leaf)
        assert bad.returncode != 0
        assert "certificate revoked" in (bad.stdout + bad.stderr)


def test_openssl_parses_and_verifies_the_crl(setup: dict[str, Path]) -> None:
    result = subprocess.run(
        ["openssl", "crl", "-in", str(setup["citizens_crl"]), "-CAfile", str(setup["issuing"]), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "verify OK" in result.stderr + result.stdout
    assert "Key Compromise" in result.stdout and "Certificate Hold" in result.stdout


def _certtool(files: dict[str, Path], leaf: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    chain = tmp / f"{leaf}-chain.pem"
    chain.write_bytes(files[leaf].read_bytes() + files["issuing"].read_bytes())
    return subprocess.run(
        [
            "certtool",
            "--verify",
            "--load-ca-certificate",
            str(files["root"]),
            "--load-crl",
            str(files["crls"]),
            "--infile",
            str(chain),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_gnutls_certtool_agrees(setup: dict[str, Path], tmp_path: Path) -> None:
    ok = _certtool(setup, "good", tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = _certtool(setup, "revoked", tmp_path)
    assert bad.returncode != 0
    assert "revoked" in (bad.stdout + bad.stderr).lower()
