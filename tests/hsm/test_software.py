"""SoftwareKeyStore: passphrase-encrypted PKCS#8 files, one per key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from hsm.base import ALGORITHMS, KeySpec
from hsm.errors import HSMError, KeyExistsError, KeyNotFoundError
from hsm.software import SoftwareKeyStore
from tests.hsm.conftest import verify

PASSPHRASE = b"correct horse battery staple"
FAST = [a for a in ALGORITHMS if a not in ("rsa-3072", "rsa-4096")]


@pytest.mark.parametrize("algorithm", FAST)
def test_round_trip_through_a_new_store(tmp_path: Path, algorithm: str) -> None:
    generated = SoftwareKeyStore(tmp_path / "keys", PASSPHRASE).generate("ca-key", KeySpec(algorithm))
    reopened = SoftwareKeyStore(tmp_path / "keys", PASSPHRASE)  # nothing cached: read and decrypt the file
    key = reopened.find("ca-key")
    assert key.public_key() == generated.public_key()
    assert reopened.public_key("ca-key") == generated.public_key()
    if isinstance(key, rsa.RSAPrivateKey):
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = key.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(b"m", ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        signature = key.sign(b"m")
    verify(
        generated.public_key(), signature, b"m", None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    )


def test_files_are_private_and_encrypted(tmp_path: Path) -> None:
    store = SoftwareKeyStore(tmp_path / "keys", PASSPHRASE)
    store.generate("k1", KeySpec("ec-p256"))
    path = tmp_path / "keys" / "k1.key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):  # encrypted: unreadable without the passphrase
        serialization.load_pem_private_key(pem, password=None)


def test_wrong_passphrase(tmp_path: Path) -> None:
    SoftwareKeyStore(tmp_path, PASSPHRASE).generate("k1", KeySpec("ec-p256"))
    with pytest.raises(HSMError, match="wrong passphrase or damaged file") as err:
        SoftwareKeyStore(tmp_path, b"not the passphrase").find("k1")
    assert b"not the passphrase".decode() not in str(err.value)


def test_duplicate_unknown_and_bad_labels(tmp_path: Path) -> None:
    store = SoftwareKeyStore(tmp_path, PASSPHRASE)
    first = store.generate("k1", KeySpec("ec-p256"))
    with pytest.raises(KeyExistsError) as exists:
        store.generate("k1", KeySpec("ec-p384"))
    assert exists.value.label == "k1"
    assert store.find("k1").public_key() == first.public_key()  # never overwritten
    with pytest.raises(KeyNotFoundError):
        store.find("k2")
    for bad in ("../escape", "a/b", "", ".hidden", "x" * 101, "space name"):
        with pytest.raises(HSMError, match="invalid key label"):
            store.generate(bad, KeySpec("ec-p256"))
    assert not any(p.name.startswith("escape") for p in tmp_path.parent.iterdir())


def test_labels_exists_and_check(tmp_path: Path) -> None:
    store = SoftwareKeyStore(tmp_path / "keys", PASSPHRASE)
    assert store.labels() == []  # directory not created yet
    store.check()
    store.generate("zeta", KeySpec("ed25519"))
    store.generate("alpha", KeySpec("ec-p256"))
    assert store.labels() == ["alpha", "zeta"]
    assert store.exists("alpha") and not store.exists("beta")
    store.check()


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HSMError, match="non-empty passphrase"):
        SoftwareKeyStore(tmp_path, b"")
