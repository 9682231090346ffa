"""Key quality at the door: known-weak and known-compromised public keys are refused before
anything is reserved (CA/B BR §6.1.1.3: "reject a certificate request if ... the public key ...
is known to be weak or compromised").

RSA moduli are checked with the maintained `badkeys` library (Hanno Böck): ROCA
(CVE-2017-15361), Fermat-factorable close primes, small prime factors, primes shared with known
weak-key sets, small private exponents, invalid values. Its own blocklists need a download that
production machines may not allow, so the compromised-key list is ours: SHA-256 of the DER
SubjectPublicKeyInfo, shipped in ``ca/data/compromised-keys.txt`` and extendable with files named
by ``ca.key_blocklist_files``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import badkeys
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from ca.errors import WeakKeyError
from core import audit
from core.clock import Clock
from core.db import atomic
from core.errors import ConfigurationError, ValidationError

# badkeys check name → (our reason code, the sentence the refusal shows).
RSA_CHECKS: dict[str, tuple[str, str]] = {
    "roca": ("roca", "the RSA key was made by a generator vulnerable to ROCA (CVE-2017-15361)"),
    "fermat": ("fermat", "the RSA primes are too close together (Fermat factorisation)"),
    "smallfactors": ("small_factors", "the RSA modulus has a small prime factor"),
    "sharedprimes": ("shared_primes", "the RSA modulus shares a prime with known weak keys"),
    "smalld": ("small_private_exponent", "the RSA private exponent is small (Wiener's attack)"),
    "rsainvalid": ("invalid_rsa", "the RSA key has invalid values"),
    "rsapoly": ("rsa_pattern", "the RSA modulus has a pattern that allows factoring"),
}
_HASH = re.compile(r"^[0-9a-f]{64}$")
SHIPPED_BLOCKLIST = "compromised-keys.txt"


def spki_sha256(key: CertificatePublicKeyTypes) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def parse_blocklist(text: str, source: str) -> frozenset[str]:
    """One lower-case hex SHA-256 per line, optionally followed by a comment; '#' lines ignored."""
    hashes = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        value = line.split()[0].lower()
        if not _HASH.match(value):
            raise ConfigurationError("ca.key_blocklist_files", f"{source}:{number}: not a SHA-256 hex digest")
        hashes.add(value)
    return frozenset(hashes)


@dataclass(frozen=True)
class KeyQuality:
    """The checks with a fixed blocklist; :meth:`check` raises :class:`WeakKeyError`."""

    blocklist: frozenset[str]

    @classmethod
    def load(cls, extra_files: Iterable[str | Path] = ()) -> KeyQuality:
        shipped = resources.files("ca.data").joinpath(SHIPPED_BLOCKLIST).read_text("utf-8")
        hashes = set(parse_blocklist(shipped, SHIPPED_BLOCKLIST))
        for name in extra_files:
            try:
                text = Path(name).read_text("utf-8")
            except OSError as exc:
                raise ConfigurationError("ca.key_blocklist_files", f"cannot read {name}: {exc.strerror}") from None
            hashes |= parse_blocklist(text, str(name))
        return cls(frozenset(hashes))

    def check(self, key: CertificatePublicKeyTypes) -> None:
        digest = spki_sha256(key)
        if digest in self.blocklist:
            raise WeakKeyError("blocklisted", "the public key is on the list of compromised keys", digest)
        if isinstance(key, rsa.RSAPublicKey):
            numbers = key.public_numbers()
            found = badkeys.checkrsa(numbers.n, e=numbers.e, checks=list(RSA_CHECKS))
            for name, (reason, message) in RSA_CHECKS.items():
                if name in found:
                    raise WeakKeyError(reason, message, digest)


_lock = threading.Lock()
_current: KeyQuality | None = None


def configure(extra_files: Iterable[str | Path]) -> KeyQuality:
    """Load the shipped blocklist plus ``extra_files`` (``ca.key_blocklist_files``) for every
    later :func:`check_key_quality` in this process; called once by the composition root."""
    global _current
    quality = KeyQuality.load(extra_files)
    with _lock:
        _current = quality
    return quality


def check_key_quality(key: CertificatePublicKeyTypes) -> None:
    """Refuse a weak or compromised key with :class:`WeakKeyError` (reason code + sentence)."""
    global _current
    with _lock:
        if _current is None:
            _current = KeyQuality.load()
        quality = _current
    quality.check(key)


# FieldError codes of a refused request (ca.errors: CSRError, KeyPolicyError, WeakKeyError).
REFUSAL_CODES = frozenset({"invalid_csr", "key_policy", "weak_key"})


def record_refusal(clock: Clock, error: ValidationError, *, actor: str, source: str, csr: bytes | None = None) -> bool:
    """Audit a certificate request refused for its CSR or key (weak, compromised, against the
    key policy, bad self-signature), in a transaction of its own: nothing else is stored for
    it. Returns whether ``error`` was such a refusal. Details hold the reason codes and the
    key's SPKI SHA-256, never the subject."""
    refusals = [e for e in error.errors if e.code in REFUSAL_CODES]
    if not refusals:
        return False
    spki = error.spki_sha256 if isinstance(error, WeakKeyError) else _spki_of(csr)
    details: dict[str, Any] = {
        "source": source,
        "refusals": [{"kind": e.code, "message": e.message} for e in refusals],
        "spki_sha256": spki,
    }
    if isinstance(error, WeakKeyError):
        details["reason"] = error.reason
    with atomic():
        audit.record(
            clock,
            actor=actor,
            action="ca.request.refused",
            object_type="certificate_request",
            object_id=spki or "-",
            outcome="refused",
            details=details,
        )
    return True


def _spki_of(csr: bytes | None) -> str | None:
    if not csr:
        return None
    try:
        loaded = (
            x509.load_pem_x509_csr(csr.strip()) if csr.lstrip().startswith(b"-----") else x509.load_der_x509_csr(csr)
        )
        return spki_sha256(loaded.public_key())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
