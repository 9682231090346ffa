"""Interop against a real HTTP server: OpenSSL `openssl ocsp`, GnuTLS `ocsptool` and
pyhanko-certvalidator use this responder (RFC 6960, RFC 5019, RFC 9654)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import ClassVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tests.ocsp.helpers import issue, set_status

pytestmark = pytest.mark.interop


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(pki, settings, db, clock, key_store) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The OCSP-only app on a free loopback port; yields the responder URL."""
    from config.app import create_app

    settings = replace(settings, ocsp=replace(settings.ocsp, refresh_seconds=0.0))
    app = create_app(settings, ["ocsp"], clock=clock, key_store=key_store, database=db)
    httpd = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/ocsp"
    httpd.shutdown()
    httpd.server_close()


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is required for interop tests (Debian: openssl / gnutls-bin)"
    return path


def _pem(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in certs))
    return path


@pytest.fixture
def files(tmp_path: Path, pki):  # type: ignore[no-untyped-def]
    return {
        "issuing": _pem(tmp_path / "issuing.pem", pki.issuing),
        "root": _pem(tmp_path / "root.pem", pki.root),
        "chain": _pem(tmp_path / "chain.pem", pki.issuing, pki.root),
        "signer": _pem(tmp_path / "signer.pem", pki.cert("citizens-ocsp")),
    }


def _openssl_ocsp(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("openssl"), "ocsp", *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("nonce", [True, False], ids=["nonce", "no_nonce"])
@pytest.mark.parametrize("digest", ["sha1", "sha256"])
def test_openssl_post(server, files, tmp_path, pki, clock, nonce: bool, digest: str) -> None:  # type: ignore[no-untyped-def]
    """openssl ocsp -url (POST), with and without a nonce (RFC 9654), SHA-1 and SHA-256 CertIDs,
    response verified against the CA chain (-CAfile)."""
    cert = issue(pki, clock)
    ee = _pem(tmp_path / "ee.pem", cert)
    args = [f"-{digest}", "-issuer", files["issuing"], "-cert", ee, "-url", server, "-CAfile", files["chain"]]
    if not nonce:
        args.append("-no_nonce")
    result = _openssl_ocsp(*args)
    assert result.returncode == 0, result.stderr
    assert "Response verify OK" in result.stderr
    assert f"{ee}: good" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr  # e.g. "WARNING: no nonce in response"


def test_openssl_revoked_with_vafile(server, files, tmp_path, pki, clock) -> None:  # type: ignore[no-untyped-def]
    """-VAfile: trust the delegated responder certificate directly."""
    cert = issue(pki, clock)
    set_status(cert, reason="keyCompromise", at=clock.now())
    ee = _pem(tmp_path / "ee.pem", cert)
    result = _openssl_ocsp("-issuer", files["issuing"], "-cert", ee, "-url", server, "-VAfile", files["signer"])
    assert result.returncode == 0, result.stderr
    assert "Response verify OK" in result.stderr
    assert f"{ee}: revoked" in result.stdout
    assert "Reason: keyCompromise" in result.stdout


def test_openssl_unknown_serial(server, files, tmp_path, pki) -> None:  # type: ignore[no-untyped-def]
    result = _openssl_ocsp(
        "-issuer", files["issuing"], "-serial", "0x1234567890ABCDEF1234", "-url", server, "-CAfile", files["chain"]
    )
    assert result.returncode == 0, result.stderr
    assert "0x1234567890ABCDEF1234: unknown" in result.stdout


def test_openssl_root_ca(server, files, tmp_path, pki) -> None:  # type: ignore[no-untyped-def]
    """The root CA's responder answers for the issuing CA certificate."""
    result = _openssl_ocsp(
        "-sha256", "-issuer", files["root"], "-cert", files["issuing"], "-url", server, "-CAfile", files["root"]
    )
    assert result.returncode == 0, result.stderr
    assert "Response verify OK" in result.stderr
    assert f"{files['issuing']}: good" in result.stdout


@pytest.mark.parametrize("nonce", [True, False], ids=["nonce", "no_nonce"])
def test_openssl_get(server, files, tmp_path, pki, clock, nonce: bool) -> None:  # type: ignore[no-untyped-def]
    """RFC 6960 Appendix A.1 GET: openssl writes the request (-reqout), we GET it as base64 in
    the URL, openssl checks the response (-respin) including the nonce."""
    cert = issue(pki, clock)
    ee = _pem(tmp_path / "ee.pem", cert)
    req = tmp_path / "req.der"
    made = _openssl_ocsp("-issuer", files["issuing"], "-cert", ee, "-reqout", req, *([] if nonce else ["-no_nonce"]))
    assert made.returncode == 0, made.stderr
    url = server + "/" + base64.b64encode(req.read_bytes()).decode()
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.headers["Content-Type"] == "application/ocsp-response"
        cache_control = answer.headers["Cache-Control"]
        (tmp_path / "resp.der").write_bytes(answer.read())
    assert ("no-store" in cache_control) == nonce
    if nonce:
        # -reqin (without -cert, which would build a new request) lets openssl compare the nonce.
        args = ["-reqin", req, "-respin", tmp_path / "resp.der", "-CAfile", files["chain"], "-resp_text"]
        expected = "Cert Status: good"
    else:
        args = [
            "-respin",
            tmp_path / "resp.der",
            "-issuer",
            files["issuing"],
            "-cert",
            ee,
            "-CAfile",
            files["chain"],
            "-no_nonce",
        ]
        expected = f"{ee}: good"
    result = _openssl_ocsp(*args)
    assert result.returncode == 0, result.stderr
    assert "Response verify OK" in result.stderr
    assert expected in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_gnutls_ocsptool_ask(server, files, tmp_path, pki, clock) -> None:  # type: ignore[no-untyped-def]
    """GnuTLS ocsptool --ask (with its nonce), verifying the response against the CA chain."""
    cert = issue(pki, clock)
    ee = _pem(tmp_path / "ee.pem", cert)
    result = subprocess.run(
        [
            _tool("ocsptool"),
            f"--ask={server}",
            "--load-cert",
            str(ee),
            "--load-issuer",
            str(files["issuing"]),
            "--load-trust",
            str(files["chain"]),
            "--nonce",
            "--outfile",
            str(tmp_path / "resp.der"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Verifying OCSP Response: Success" in output, output
    assert "Certificate Status: good" in output


def test_gnutls_ocsptool_revoked_response_info(server, files, tmp_path, pki, clock) -> None:  # type: ignore[no-untyped-def]
    """ocsptool --response-info + --verify-response on a response saved from a GET."""
    cert = issue(pki, clock)
    set_status(cert, reason="certificateHold", at=clock.now())
    ee = _pem(tmp_path / "ee.pem", cert)
    req = tmp_path / "req.der"
    made = subprocess.run(
        [
            _tool("ocsptool"),
            "--generate-request",
            "--load-cert",
            str(ee),
            "--load-issuer",
            str(files["issuing"]),
            "--no-nonce",
            "--outfile",
            str(req),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    url = server + "/" + base64.b64encode(req.read_bytes()).decode()
    with urllib.request.urlopen(url, timeout=30) as answer:
        (tmp_path / "resp.der").write_bytes(answer.read())
    info = subprocess.run(
        [_tool("ocsptool"), "--response-info", "--load-response", str(tmp_path / "resp.der")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert info.returncode == 0, info.stderr
    assert "Certificate Status: revoked" in info.stdout
    verified = subprocess.run(
        [
            _tool("ocsptool"),
            "--verify-response",
            "--load-response",
            str(tmp_path / "resp.der"),
            "--load-trust",
            str(files["chain"]),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = verified.stdout + verified.stderr
    assert verified.returncode == 0, output
    assert "Verifying OCSP Response: Success" in output, output


@pytest.mark.parametrize("revoked", [False, True], ids=["good", "revoked"])
def test_pyhanko_certvalidator(server, pki, clock, revoked: bool) -> None:  # type: ignore[no-untyped-def]
    """pyhanko-certvalidator fetches from this responder (the certificate's AIA) and requires
    OCSP for the end-entity certificate."""
    import asyncio

    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule

    cert = issue(pki, clock, ocsp_url=server)
    if revoked:
        set_status(cert, reason="keyCompromise", at=clock.now())

    def load(c: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(c.public_bytes(Encoding.DER))

    context = ValidationContext(
        trust_roots=[load(pki.root)],
        other_certs=[load(pki.issuing)],
        allow_fetching=True,
        moment=clock.now(),
        revinfo_policy=CertRevTrustPolicy(
            RevocationCheckingPolicy(
                ee_certificate_rule=RevocationCheckingRule.OCSP_REQUIRED,
                intermediate_ca_cert_rule=RevocationCheckingRule.NO_CHECK,
            )
        ),
    )
    validator = CertificateValidator(load(cert), validation_context=context)
    if revoked:
        with pytest.raises(RevokedError):
            asyncio.run(validator.async_validate_usage(set()))
    else:
        path = asyncio.run(validator.async_validate_usage(set()))
        assert path.leaf.serial_number == cert.serial_number


_NONCE_OID = bytes.fromhex("06092b0601050507300102")


def _pyasice_style_request(cert: x509.Certificate, issuer: x509.Certificate, signature_value: bytes) -> bytes:
    """The request pyasice's ``OCSP.build_ocsp_request`` sends (BDOC/DigiDoc practice): asn1crypto,
    SHA-1 CertID, and as nonce a DigestInfo (SHA-256) of the signature value placed directly in the
    extnValue through its ``SKHackedTBSRequestExtension`` (extn_value typed OCTET STRING, so the
    DigestInfo is not wrapped in another OCTET STRING). Rebuilt here with the same asn1crypto calls
    because pyasice pins lxml < 5, which the project cannot install."""
    from asn1crypto import algos, core, ocsp
    from asn1crypto import x509 as asn1_x509

    class SKHackedTBSRequestExtension(ocsp.TBSRequestExtension):  # type: ignore[misc]
        _fields: ClassVar[list[tuple[object, ...]]] = [
            ("extn_id", ocsp.TBSRequestExtensionId),
            ("critical", core.Boolean, {"default": False}),
            ("extn_value", core.OctetString),
        ]

    subject = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    issuer_asn1 = asn1_x509.Certificate.load(issuer.public_bytes(Encoding.DER))
    digest = hashlib.sha256(signature_value).digest()
    nonce = algos.DigestInfo({"digest_algorithm": {"algorithm": "sha256"}, "digest": digest})
    extension = SKHackedTBSRequestExtension({"extn_id": "nonce", "critical": False, "extn_value": nonce.dump()})
    tbs = ocsp.TBSRequest(
        {
            "request_list": [
                {
                    "req_cert": {
                        "hash_algorithm": {"algorithm": "sha1"},
                        "issuer_name_hash": subject.issuer.sha1,
                        "issuer_key_hash": issuer_asn1.public_key.sha1,
                        "serial_number": subject.serial_number,
                    },
                    "single_request_extensions": None,
                }
            ],
            "request_extensions": [extension],
        }
    )
    return bytes(ocsp.OCSPRequest({"tbs_request": tbs, "optional_signature": None}).dump())


def test_bdoc_digest_info_nonce_echoed(server, files, tmp_path, pki, clock) -> None:  # type: ignore[no-untyped-def]
    """An ASiC-E/BDOC client's nonce (a DigestInfo of the signature value, not OCTET STRING-wrapped)
    is echoed exactly as received (RFC 9654 §2.1 size limit), so the client can bind the response
    to its signature; openssl, given that request (-reqin), finds the nonce matching."""
    from asn1crypto import ocsp as asn1_ocsp

    cert = issue(pki, clock)
    request = _pyasice_style_request(cert, pki.issuing, b"signature value \x00\x01" * 16)
    posted = urllib.request.Request(server, data=request, headers={"Content-Type": "application/ocsp-request"})
    with urllib.request.urlopen(posted, timeout=30) as answer:
        body = answer.read()
    response = asn1_ocsp.OCSPResponse.load(body)
    assert response["response_status"].native == "successful"
    sent = request[request.index(_NONCE_OID) :]  # OID + extnValue OCTET STRING, the last bytes sent
    # The response holds the same nonce extension byte for byte: the DigestInfo, not re-wrapped.
    assert response.response_data["response_extensions"].dump().endswith(sent)
    assert response.response_data["responses"][0]["cert_status"].name == "good"
    (tmp_path / "req.der").write_bytes(request)
    result = _openssl_ocsp("-reqin", tmp_path / "req.der", "-url", server, "-CAfile", files["chain"], "-resp_text")
    assert result.returncode == 0, result.stderr
    assert "Response verify OK" in result.stderr
    assert "WARNING" not in result.stdout + result.stderr  # "nonce verify error" if not echoed exactly
    assert "Cert Status: good" in result.stdout
