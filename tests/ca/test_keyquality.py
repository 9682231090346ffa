"""Key quality at the door (issue 15 item 2; CA/B BR §6.1.1.3: refuse keys known to be weak or
compromised): ROCA, Fermat close primes, small factors and the compromised-key blocklist, each
refused with the reason named, at the CLI and audited."""

from __future__ import annotations

import io
import json
from pathlib import Path

import badkeys
import gmpy2
import peewee as pw
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ca import keyquality
from ca.errors import WeakKeyError
from ca.models import Certificate
from ca.requests import check_public_key
from config.cli import main
from config.runtime import Runtime
from config.settings import Settings
from core.audit import AuditRecord
from core.clock import FrozenClock
from core.errors import ConfigurationError
from hsm.software import SoftwareKeyStore
from tests.ca.conftest import csr_for
from tests.pki import build_pki
from tests.weakkeys import fermat_key, private_key, roca_key

# RFC 9500 testECCP384 (its private key is published in the RFC): on the shipped blocklist.
RFC9500_P384 = b"""-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEWwkBuIUjKW65GdUP+hqcs3S8TUCVhigr
/soRsdla27VHNK9XC/grcijPImvPTCXdvP47GjrTlDDv92Ph1o0uFR2Rcgt3lbWN
prNGOWE6j7m1qNpIxnRxF/mRnoQk837I
-----END PUBLIC KEY-----
"""


@pytest.fixture(scope="module")
def roca() -> rsa.RSAPrivateKey:
    return roca_key()


@pytest.fixture(scope="module")
def fermat() -> rsa.RSAPrivateKey:
    return fermat_key()


def _reason(key: object) -> str:
    with pytest.raises(WeakKeyError) as info:
        check_public_key(key)  # type: ignore[arg-type]
    return info.value.reason


def test_generated_keys_are_what_badkeys_calls_them(roca: rsa.RSAPrivateKey, fermat: rsa.RSAPrivateKey) -> None:
    """The vectors are real: badkeys itself flags them (and does not flag a sound key)."""
    assert "roca" in badkeys.checkrsa(roca.public_key().public_numbers().n, checks=["roca"])
    assert "fermat" in badkeys.checkrsa(fermat.public_key().public_numbers().n, checks=["fermat"])
    sound = rsa.generate_private_key(65537, 2048).public_key().public_numbers().n
    assert badkeys.checkrsa(sound, checks=list(keyquality.RSA_CHECKS)) == {}


def test_roca_and_fermat_keys_are_refused_naming_the_reason(roca: rsa.RSAPrivateKey, fermat: rsa.RSAPrivateKey) -> None:
    assert _reason(roca.public_key()) == "roca"
    assert _reason(fermat.public_key()) == "fermat"
    check_public_key(rsa.generate_private_key(65537, 2048).public_key())
    check_public_key(ec.generate_private_key(ec.SECP256R1()).public_key())


def test_small_factor_keys_are_refused() -> None:
    # A 2048-bit "modulus" with the factor 65537 (above the local product of primes below 2000).
    n = 65537 * int(gmpy2.next_prime((3 << 2046) // 65537))
    key = rsa.RSAPublicNumbers(65537, n).public_key()
    assert _reason(key) == "small_factors"


def test_shipped_blocklist_refuses_published_test_keys() -> None:
    key = serialization.load_pem_public_key(RFC9500_P384)
    assert _reason(key) == "blocklisted"
    quality = keyquality.KeyQuality.load()
    assert len(quality.blocklist) >= 2 and keyquality.spki_sha256(key) in quality.blocklist  # type: ignore[arg-type]


def test_administrators_extend_the_blocklist(tmp_path: Path) -> None:
    leaked = ec.generate_private_key(ec.SECP256R1()).public_key()
    extra = tmp_path / "leaked.txt"
    extra.write_text(f"# leaked in an incident\n{keyquality.spki_sha256(leaked)}  laptop of officer 7\n")
    try:
        keyquality.configure([str(extra)])
        assert _reason(leaked) == "blocklisted"
    finally:
        keyquality.configure([])
    check_public_key(leaked)
    extra.write_text("not-a-hash\n")
    with pytest.raises(ConfigurationError) as info:
        keyquality.configure([str(extra)])
    assert info.value.key == "ca.key_blocklist_files"


@pytest.fixture
def runtime(settings: Settings, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore) -> Runtime:
    build_pki(clock, key_store, settings.ca)
    return Runtime(settings, clock, key_store)


@pytest.mark.parametrize("kind", ["roca", "fermat"])
def test_cli_issue_refuses_weak_keys_with_the_reason_and_audits_it(
    kind: str,
    roca: rsa.RSAPrivateKey,
    fermat: rsa.RSAPrivateKey,
    runtime: Runtime,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = {"roca": roca, "fermat": fermat}[kind]
    csr = tmp_path / "req.pem"
    csr.write_bytes(csr_for(key).public_bytes(serialization.Encoding.PEM))
    subject = tmp_path / "subject.json"
    subject.write_text(json.dumps({"given_name": "Jan", "surname": "Kowalski", "pesel": "44051401359"}))
    out = io.StringIO()
    code = main(["cert", "issue", "--csr", str(csr), "--subject-json", str(subject)], out=out, runtime=runtime)
    assert code == 2 and out.getvalue() == ""
    assert f"({kind})" in capsys.readouterr().err
    assert Certificate.select().where(Certificate.profile == "citizen").count() == 0
    row = AuditRecord.get(AuditRecord.action == "ca.request.refused")
    assert row.outcome == "refused" and row.details["reason"] == kind and row.details["source"] == "cli"
    assert row.object_id == keyquality.spki_sha256(key.public_key())


def test_private_key_helper_makes_consistent_keys() -> None:
    key = private_key(2**127 - 1, 2**89 - 1)
    assert key.private_numbers().public_numbers.n == (2**127 - 1) * (2**89 - 1)
