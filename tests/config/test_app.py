"""The app factory, probes, error mapping (RFC 9457) and CA download resources."""

from __future__ import annotations

import falcon
import peewee as pw
import pytest
from cryptography import x509

from config.app import create_app
from config.settings import Settings
from core.clock import FrozenClock
from core.errors import ConfigurationError, IntegrityError
from hsm.base import KeyStore
from hsm.errors import KeyStoreUnavailableError
from hsm.software import SoftwareKeyStore
from tests.conftest import make_client
from tests.pki import TestPKI


def test_healthz_and_readyz(settings: Settings, db: pw.Database, clock: FrozenClock, key_store: KeyStore) -> None:
    client = make_client(settings, ["ca"], db, clock, key_store)
    assert client.simulate_get("/healthz").json == {"status": "ok"}
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {
        "database": "ok",
        "key_store": "ok",
        "audit_seal": "ok",
    }


class _BrokenStore(SoftwareKeyStore):
    def check(self) -> None:
        raise KeyStoreUnavailableError("token not present")


def test_readyz_is_503_when_the_key_store_is_unusable(
    settings: Settings, db: pw.Database, clock: FrozenClock, tmp_path: object
) -> None:
    client = make_client(settings, ["ca"], db, clock, _BrokenStore(f"{tmp_path}/k", b"x"))
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["key_store"].startswith("unavailable")


def test_ca_certificates_are_served_as_der(
    settings: Settings, pki: TestPKI, db: pw.Database, clock: FrozenClock
) -> None:
    client = make_client(settings, ["ca"], db, clock, pki.key_store)
    for name in ("root", "citizens", "citizens-ocsp", "tsa"):
        resp = client.simulate_get(f"/certs/{name}.crt")
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "application/pkix-cert"
        assert x509.load_der_x509_certificate(resp.content) == pki.cert(name)
        assert resp.headers["etag"] and resp.headers["last-modified"]
        again = client.simulate_get(f"/certs/{name}.crt", headers={"If-None-Match": resp.headers["etag"]})
        assert again.status_code == 304


def test_errors_are_problem_json(settings: Settings, pki: TestPKI, db: pw.Database, clock: FrozenClock) -> None:
    client = make_client(settings, ["ca"], db, clock, pki.key_store)
    resp = client.simulate_get("/certs/nope.crt")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json["status"] == 404 and resp.json["code"] == "authority_not_found"
    route = client.simulate_get("/no/such/route")
    assert route.status_code == 404 and route.headers["content-type"] == "application/problem+json"


def test_request_ids_are_echoed_or_made(
    settings: Settings, db: pw.Database, clock: FrozenClock, key_store: KeyStore
) -> None:
    client = make_client(settings, ["ca"], db, clock, key_store)
    assert client.simulate_get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.simulate_get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
    assert made != "bad id\n" and len(made) == 32


def test_oversized_bodies_are_413(settings: Settings, db: pw.Database, clock: FrozenClock, key_store: KeyStore) -> None:
    client = make_client(settings, ["ca"], db, clock, key_store)
    resp = client.simulate_post("/healthz", body=b"x" * (settings.server.max_body_bytes + 1))
    assert resp.status_code == 413 and resp.json["code"] == "payload_too_large"


def test_unexpected_and_internal_errors_do_not_leak(
    settings: Settings, db: pw.Database, clock: FrozenClock, key_store: KeyStore
) -> None:
    app = create_app(settings, ["ca"], clock=clock, key_store=key_store, database=db)

    class Boom:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            raise RuntimeError("secret internals")

    class Broken:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            raise IntegrityError("tbs mismatch for serial 0A")

    app.add_route("/boom", Boom())
    app.add_route("/broken", Broken())
    client = falcon.testing.TestClient(app)
    for path in ("/boom", "/broken"):
        resp = client.simulate_get(path)
        assert resp.status_code == 500
        assert resp.headers["content-type"] == "application/problem+json"
        assert "secret" not in resp.text and "serial" not in resp.text


def test_unknown_service_is_a_configuration_error(settings: Settings, db: pw.Database) -> None:
    with pytest.raises(ConfigurationError):
        create_app(settings, ["nope"], database=db)
