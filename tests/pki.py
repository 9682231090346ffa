"""A real CA hierarchy for tests: the production key ceremony run against a test database and a
software key store (or any KeyStore, e.g. a SoftHSM2 token from tests/softhsm.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from ca.hierarchy import Ceremony, authority, load_certificate
from ca.models import Authority
from ca.settings import CASettings
from core.clock import Clock
from hsm.base import KeyStore
from hsm.software import SoftwareKeyStore


@dataclass
class TestPKI:
    __test__ = False  # a fixture object, not a test class

    settings: CASettings
    key_store: KeyStore
    clock: Clock
    _cache: dict[str, x509.Certificate] = field(default_factory=dict)

    def row(self, name: str) -> Authority:
        return authority(name)

    def cert(self, name: str) -> x509.Certificate:
        if name not in self._cache:
            self._cache[name] = load_certificate(authority(name))
        return self._cache[name]

    def key(self, name: str) -> CertificateIssuerPrivateKeyTypes:
        return self.key_store.find(authority(name).key_label)

    @property
    def root(self) -> x509.Certificate:
        return self.cert(self.settings.root.name)

    @property
    def issuing(self) -> x509.Certificate:
        return self.cert(self.settings.issuing.name)

    def chain_pem(self) -> bytes:
        """Issuing CA then root, PEM (what clients are given)."""
        from cryptography.hazmat.primitives.serialization import Encoding

        return self.issuing.public_bytes(Encoding.PEM) + self.root.public_bytes(Encoding.PEM)

    def write_chain(self, directory: Path) -> tuple[Path, Path]:
        """Write root.pem and chain.pem (issuing + root) for external tools (openssl, certtool)."""
        from cryptography.hazmat.primitives.serialization import Encoding

        root = directory / "root.pem"
        root.write_bytes(self.root.public_bytes(Encoding.PEM))
        chain = directory / "chain.pem"
        chain.write_bytes(self.chain_pem())
        return root, chain


def build_pki(clock: Clock, key_store: KeyStore, settings: CASettings | None = None) -> TestPKI:
    """Run the key ceremony; the database must be bound and migrated (use the ``db`` fixture)."""
    settings = settings or CASettings()
    Ceremony(settings, key_store, clock, actor="test:ceremony").run()
    return TestPKI(settings, key_store, clock)


def software_store(directory: Path) -> SoftwareKeyStore:
    return SoftwareKeyStore(directory, b"test-passphrase")
