"""Interop against a real HTTP server: OpenSSL `openssl ocsp`, GnuTLS `ocsptool` and
pyhanko-certvalidator use this responder (RFC 6960, RFC 5019, RFC 8954)."""

from __future__ import annotations

import base64
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from socketserver import ThreadingMixIn
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
    """openssl ocsp -url (POST), with and without a nonce (RFC 8954), SHA-1 and SHA-256 CertIDs,
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
