"""POST /api/v1/verifications over the real app (falcon TestClient)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace

import pytest
from falcon import testing

from core.auth import ANONYMOUS, Principal
from tests.conftest import make_client
from tests.verifier.helpers import PNOPL, PORTAL, PrincipalMiddleware, multipart, openssl_cms_sign, tool
from verifier.settings import VerifierSettings

URL = "/api/v1/verifications"


def _client(app_settings, db, clock, key_store, principal: Principal | None = PORTAL) -> testing.TestClient:
    client = make_client(app_settings, ["verifier"], db, clock, key_store)
    client.app.add_middleware(PrincipalMiddleware(principal))
    return client


@pytest.fixture
def client(app_settings, db, clock, key_store, vpki) -> testing.TestClient:
    return _client(app_settings, db, clock, key_store)


@pytest.fixture
def signed_cms(citizen, tmp_path) -> bytes:
    content = tmp_path / "c.txt"
    content.write_bytes(b"tresc wniosku\n")
    return openssl_cms_sign(citizen, content, attached=True)


pytestmark = pytest.mark.interop


def test_verify_returns_the_report(client, signed_cms) -> None:
    result = client.simulate_post(URL, body=signed_cms, headers={"Content-Type": "application/pkcs7-mime"})
    assert result.status_code == 200, result.text
    body = result.json
    assert body["indication"] == "TOTAL_PASSED"
    sig = body["signatures"][0]
    assert sig["format"] == "CAdES" and sig["level"] == "B-B" and sig["sub_indication"] is None
    assert sig["signer"]["semantics_identifier"] == PNOPL
    assert sig["certificate_chain"][0]["fingerprint_sha256"]
    assert sig["revocation"][0]["kind"] == "OCSP"
    assert result.headers["cache-control"] == "no-store"


def test_report_never_logs_the_semantics_identifier(client, signed_cms, caplog) -> None:
    caplog.set_level("DEBUG")
    result = client.simulate_post(URL, body=signed_cms, headers={"Content-Type": "application/pkcs7-mime"})
    assert PNOPL in result.text
    assert PNOPL not in caplog.text
    assert "Jan Testowy" not in caplog.text


def test_validation_time_parameter(client, signed_cms, clock) -> None:
    at = (clock.now().replace(microsecond=0)).isoformat()
    result = client.simulate_post(
        URL, body=signed_cms, params={"validation_time": at}, headers={"Content-Type": "application/pkcs7-mime"}
    )
    assert result.json["validation_time"].startswith(at[:19])
    bad = client.simulate_post(
        URL,
        body=signed_cms,
        params={"validation_time": "yesterday"},
        headers={"Content-Type": "application/pkcs7-mime"},
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_anonymous_is_401_and_wrong_scope_is_403(app_settings, db, clock, key_store, vpki, signed_cms) -> None:
    anonymous = _client(app_settings, db, clock, key_store, ANONYMOUS)
    assert anonymous.simulate_post(URL, body=signed_cms, headers={"Content-Type": "application/cms"}).status_code == 401
    other = _client(app_settings, db, clock, key_store, Principal("portal", "2", scopes=frozenset({"applications"})))
    result = other.simulate_post(URL, body=signed_cms, headers={"Content-Type": "application/cms"})
    assert result.status_code == 403 and result.headers["content-type"] == "application/problem+json"


def test_too_large_is_413(settings, db, clock, key_store, vpki) -> None:
    small = replace(settings, verifier=VerifierSettings(max_document_bytes=2048))
    client = _client(small, db, clock, key_store)
    result = client.simulate_post(URL, body=b"%PDF-1.7\n" + b"0" * 4096, headers={"Content-Type": "application/pdf"})
    assert result.status_code == 413 and result.headers["content-type"] == "application/problem+json"


def test_unsupported_media_type_is_415(client) -> None:
    result = client.simulate_post(URL, body=b"PK\x03\x04junk", headers={"Content-Type": "application/msword"})
    assert result.status_code == 415 and result.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "content_type,body",
    [
        ("application/pdf", b"this is not a pdf"),
        ("application/xml", b"<!DOCTYPE x [<!ENTITY a SYSTEM 'file:///etc/passwd'>]><x>&a;</x>"),
        ("application/pkcs7-signature", b"\x30\x82\xff\xff\x06"),
        ("application/pkcs7-signature", b"PK\x03\x04" + b"\x00" * 100),
        ("application/octet-stream", b"\x00\x01\x02"),
        ("application/pdf", b""),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="signature"\r\n\r\nabc'),
    ],
    ids=["not-pdf", "xxe", "truncated-der", "zip-junk", "octet-junk", "empty", "open-multipart"],
)
def test_unparseable_input_is_400(client, content_type, body) -> None:
    result = client.simulate_post(URL, body=body, headers={"Content-Type": content_type})
    assert result.status_code == 400, result.text
    assert result.headers["content-type"] == "application/problem+json"


def test_detached_cms_over_multipart(client, citizen, tmp_path) -> None:
    content = tmp_path / "c.txt"
    content.write_bytes(b"tresc\n")
    signature = openssl_cms_sign(citizen, content, attached=False)
    ct, body = multipart(
        [
            ("signature", "p.p7s", "application/pkcs7-signature", signature),
            ("document", "c.txt", "text/plain", b"tresc\n"),
        ]
    )
    result = client.simulate_post(URL, body=body, headers={"Content-Type": ct})
    assert result.json["indication"] == "TOTAL_PASSED"
    assert result.json["document"]["detached_parts"] == ["c.txt"]


def test_signed_report_verifies_with_openssl_and_with_ourselves(client, signed_cms, vpki, tmp_path) -> None:
    result = client.simulate_post(
        URL, body=signed_cms, params={"signed": "true"}, headers={"Content-Type": "application/pkcs7-mime"}
    )
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("application/pkcs7-mime")
    p7m = tmp_path / "report.p7m"
    p7m.write_bytes(result.content)
    root, _ = vpki.write_chain(tmp_path)
    out = subprocess.run(
        [tool("openssl"), "cms", "-verify", "-inform", "DER", "-in", str(p7m), "-CAfile", str(root), "-purpose", "any"],
        check=False,
        capture_output=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["indication"] == "TOTAL_PASSED"
    # Accept header works too, and the verifier accepts its own signed report (audit seal, our root).
    again = client.simulate_post(
        URL, body=signed_cms, headers={"Content-Type": "application/pkcs7-mime", "Accept": "application/pkcs7-mime"}
    )
    assert again.headers["content-type"].startswith("application/pkcs7-mime")
    check = client.simulate_post(URL, body=again.content, headers={"Content-Type": "application/pkcs7-mime"})
    assert check.json["indication"] == "TOTAL_PASSED", check.text
    assert check.json["signatures"][0]["signer"]["subject"] == vpki.cert("audit").subject.rfc4514_string()


def test_openapi_documents_the_route() -> None:
    from verifier import openapi

    paths = openapi.paths()
    assert "post" in paths[URL]
    schema = openapi.schemas()["SignatureReport"]
    assert "REVOKED" in schema["properties"]["sub_indication"]["enum"]
