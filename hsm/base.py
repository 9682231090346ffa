"""The key-store interface shared by the PKCS#11 and software back-ends."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import NewType

from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)

KeyLabel = NewType("KeyLabel", str)

ALGORITHMS = ("ec-p256", "ec-p384", "ec-p521", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519")


@dataclass(frozen=True)
class KeySpec:
    """What key to generate: one of :data:`ALGORITHMS`."""

    algorithm: str

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unsupported key algorithm {self.algorithm!r}; choose one of {', '.join(ALGORITHMS)}")

    @property
    def family(self) -> str:
        return self.algorithm.split("-")[0]

    @property
    def rsa_bits(self) -> int:
        if self.family != "rsa":
            raise ValueError("not an RSA key spec")
        return int(self.algorithm.split("-")[1])

    @property
    def curve(self) -> str:
        if self.family != "ec":
            raise ValueError("not an EC key spec")
        return {"ec-p256": "secp256r1", "ec-p384": "secp384r1", "ec-p521": "secp521r1"}[self.algorithm]


class KeyStore(abc.ABC):
    """Generate, find and use keys that stay inside the store.

    Implementations are safe to share between threads. PKCS#11 stores initialise lazily, in the
    process that first uses them, so a store built before gunicorn forks is safe in each worker.
    """

    @abc.abstractmethod
    def generate(self, label: KeyLabel | str, spec: KeySpec) -> CertificateIssuerPrivateKeyTypes:
        """Generate a key pair inside the store; raise KeyExistsError if the label is taken."""

    @abc.abstractmethod
    def find(self, label: KeyLabel | str) -> CertificateIssuerPrivateKeyTypes:
        """Return a signing handle for the key; raise KeyNotFoundError if there is none."""

    def public_key(self, label: KeyLabel | str) -> CertificateIssuerPublicKeyTypes:
        return self.find(label).public_key()  # type: ignore[return-value]

    @abc.abstractmethod
    def labels(self) -> list[str]:
        """Labels of the private keys in the store, sorted."""

    def exists(self, label: KeyLabel | str) -> bool:
        return str(label) in self.labels()

    @abc.abstractmethod
    def check(self) -> None:
        """Raise KeyStoreUnavailableError if the store cannot be used now (readiness probe)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sessions and handles."""
