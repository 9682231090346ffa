"""CA test helpers: a hierarchy with public (non-loopback) URLs, so pkilint's ETSI lints run
unwaived, and small builders for keys, CSRs and subjects."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import peewee as pw
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ca.issuance import IssuancePipeline, IssueRequest, SubjectIdentity
from ca.settings import CASettings
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from tests.pki import TestPKI, build_pki

# http, not https: EN 319 412-2 GEN-4.3.11-4 wants an http (or ldap) CRL distribution point.
PUBLIC = CASettings(public_base_url="http://pki.sekap-trust.eu", cps_uri="https://pki.sekap-trust.eu/cps")
JAN = SubjectIdentity("Jan", "Kowalski", pesel="44051401359", email="jan.kowalski@example.com")
ANNA = SubjectIdentity("Anna", "Nowak", id_card="ABA300000")


@pytest.fixture
def ca_settings() -> CASettings:
    return PUBLIC


@pytest.fixture
def ca_pki(db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore, ca_settings: CASettings) -> TestPKI:
    return build_pki(clock, key_store, ca_settings)


@pytest.fixture
def pipeline(ca_pki: TestPKI) -> IssuancePipeline:
    return IssuancePipeline(ca_pki.settings, ca_pki.key_store, ca_pki.clock)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def csr_for(key: ec.EllipticCurvePrivateKey, cn: str = "ignored") -> x509.CertificateSigningRequest:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )


def citizen_request(
    subject: SubjectIdentity = JAN, key: ec.EllipticCurvePrivateKey | None = None, **kwargs: object
) -> IssueRequest:
    return IssueRequest(profile="citizen", subject=subject, public_key=(key or ec_key()).public_key(), **kwargs)  # type: ignore[arg-type]


def with_settings(settings: CASettings, **changes: object) -> CASettings:
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
