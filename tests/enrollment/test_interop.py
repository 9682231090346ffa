"""Real tools read what enrollment produces (they must be installed: these tests fail, not skip)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.enrollment.flows import issued_certificate
from tests.enrollment.helpers import API, PIN, Parties


@pytest.mark.interop
def test_openssl_reads_the_pkcs12(api: API, parties: Parties, tmp_path: Path) -> None:
    """RFC 7292 / RFC 8018: OpenSSL opens the PIN-protected PKCS#12 (PBES2, AES-256-CBC, HMAC-SHA256)."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is required (Debian package openssl)"
    result, _ = issued_certificate(api, parties, csr=False)
    data = api.call("GET", result["pkcs12_url"], api.as_officer("officer1")).content
    p12 = tmp_path / "citizen.p12"
    p12.write_bytes(data)
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN)
    info = subprocess.run(
        [openssl, "pkcs12", "-in", str(p12), "-info", "-noout", "-passin", f"file:{pin_file}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert info.returncode == 0, info.stderr
    assert "PBES2" in info.stderr and "AES-256-CBC" in info.stderr and "sha256" in info.stderr.lower()
    certs = subprocess.run(
        [openssl, "pkcs12", "-in", str(p12), "-nokeys", "-passin", f"file:{pin_file}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert certs.returncode == 0 and certs.stdout.count("BEGIN CERTIFICATE") == 3  # citizen, issuing CA, root
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-pin")
    refused = subprocess.run(
        [openssl, "pkcs12", "-in", str(p12), "-noout", "-passin", f"file:{wrong}"], capture_output=True, check=False
    )
    assert refused.returncode != 0
