"""Software key store: one passphrase-encrypted PKCS#8 PEM file per key.

For the embedded default and development. Keys are decrypted once per process and kept in
memory; files are created with mode 0600 and never overwritten.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from hsm.base import KeyLabel, KeySpec, KeyStore
from hsm.errors import (
    InvalidKeyLabelError,
    KeyExistsError,
    KeyNotFoundError,
    KeyStoreError,
    KeyStoreUnavailableError,
    UnsupportedAlgorithmError,
)

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_CURVES: dict[str, ec.EllipticCurve] = {
    "secp256r1": ec.SECP256R1(),
    "secp384r1": ec.SECP384R1(),
    "secp521r1": ec.SECP521R1(),
}


def check_label(label: str) -> str:
    if not _LABEL.match(label):
        raise InvalidKeyLabelError(label)
    return label


def generate_private_key(spec: KeySpec) -> CertificateIssuerPrivateKeyTypes:
    """A fresh key of ``spec`` in process memory (also used for keys generated at a certification point)."""
    if spec.family == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=spec.rsa_bits)
    if spec.family == "ec":
        return ec.generate_private_key(_CURVES[spec.curve])
    return ed25519.Ed25519PrivateKey.generate()


class SoftwareKeyStore(KeyStore):
    def __init__(self, directory: Path | str, passphrase: bytes) -> None:
        if not passphrase:
            raise KeyStoreError("the software key store needs a non-empty passphrase")
        self._dir = Path(directory)
        self._passphrase = passphrase
        self._cache: dict[str, CertificateIssuerPrivateKeyTypes] = {}
        self._lock = threading.Lock()

    def _path(self, label: str) -> Path:
        return self._dir / f"{check_label(label)}.key.pem"

    def generate(self, label: KeyLabel | str, spec: KeySpec) -> CertificateIssuerPrivateKeyTypes:
        path = self._path(str(label))
        key = generate_private_key(spec)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._passphrase),
        )
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyExistsError(str(label)) from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with self._lock:
            self._cache[str(label)] = key
        return key

    def find(self, label: KeyLabel | str) -> CertificateIssuerPrivateKeyTypes:
        name = str(label)
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None:
            return cached
        path = self._path(name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise KeyNotFoundError(name) from None
        try:
            key = serialization.load_pem_private_key(data, password=self._passphrase)
        except ValueError as exc:
            raise KeyStoreError(f"cannot decrypt key {name!r}: wrong passphrase or damaged file") from exc
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
            raise UnsupportedAlgorithmError(f"key {name!r} has an unsupported type {type(key).__name__}")
        with self._lock:
            self._cache[name] = key
        return key

    def labels(self) -> list[str]:
        if not self._dir.is_dir():
            return []
        return sorted(p.name[: -len(".key.pem")] for p in self._dir.glob("*.key.pem"))

    def check(self) -> None:
        if self._dir.exists() and not os.access(self._dir, os.R_OK):
            raise KeyStoreUnavailableError(f"key directory {self._dir} is not readable")
