"""The CPS pointer comes from the configured public URL (RFC 5280 §4.2.1.4 CPS qualifier) and the
CPS and PKI disclosure statement (EN 319 411-1 §6.1) are served there, in Polish."""

from __future__ import annotations

import dataclasses

import peewee as pw
import pytest
from cryptography import x509

from ca.issuance import IssuancePipeline
from ca.settings import CASettings
from config.settings import Settings
from core.clock import FrozenClock
from core.errors import ConfigurationError
from tests.ca.conftest import citizen_request
from tests.conftest import make_client
from tests.pki import TestPKI, build_pki


def _cps_pointers(cert: x509.Certificate) -> list[str]:
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    return [q for p in policies for q in (p.policy_qualifiers or []) if isinstance(q, str)]


def test_cps_url_follows_public_base_url() -> None:
    settings = CASettings(public_base_url="https://pki.example.pl")
    assert settings.cps_url == "https://pki.example.pl/policy/cps"
    assert settings.pds_url == "https://pki.example.pl/policy/pds"
    assert CASettings(public_base_url="https://pki.example.pl", cps_uri="https://cps.example.pl/").cps_url == (
        "https://cps.example.pl/"
    )


def test_cps_uri_must_be_http() -> None:
    with pytest.raises(ConfigurationError, match=r"ca\.cps_uri"):
        CASettings(cps_uri="ftp://x/cps")


def test_certificates_point_at_the_served_cps(db: pw.Database, clock: FrozenClock, key_store: object) -> None:
    """Citizen and issuing-CA certificates carry <public_base_url>/policy/cps, not a fixed host."""
    settings = CASettings(public_base_url="http://pki.sekap-trust.eu")
    pki = build_pki(clock, key_store, settings)  # type: ignore[arg-type]
    citizen = IssuancePipeline(pki.settings, pki.key_store, pki.clock).issue(citizen_request(), actor="t")
    for cert in (pki.issuing, x509.load_pem_x509_certificate(citizen.pem)):
        assert _cps_pointers(cert) == ["http://pki.sekap-trust.eu/policy/cps"]


@pytest.mark.parametrize("name", ["cps", "pds"])
def test_policy_documents_served_in_polish(
    settings: Settings, pki: TestPKI, db: pw.Database, clock: FrozenClock, name: str
) -> None:
    base = "https://pki.example.pl"
    settings = dataclasses.replace(settings, ca=dataclasses.replace(settings.ca, public_base_url=base))
    client = make_client(settings, ["ca"], db, clock, pki.key_store)
    resp = client.simulate_get(f"/policy/{name}")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="pl">' in resp.text
    assert f"{base}/ocsp" in resp.text and f"{base}/policy/cps" in resp.text
    assert settings.ca.policy_oid in resp.text and "0.4.0.2042.1.3" in resp.text
    assert "{" not in resp.text  # every placeholder filled


def test_unknown_policy_document_is_404(settings: Settings, pki: TestPKI, db: pw.Database, clock: FrozenClock) -> None:
    client = make_client(settings, ["ca"], db, clock, pki.key_store)
    assert client.simulate_get("/policy/nope").status_code == 404
