"""Real clients against a real server: openssl ts, Java jarsigner, pyHanko (PAdES B-T) and
rfc3161ng. These FAIL when a tool is missing (Makefile TEST_DEBS installs openssl and the JDK)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee as pw
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from ca.settings import AuthoritySettings, CASettings
from config.app import create_app
from config.settings import Settings
from core.clock import SystemClock
from hsm.software import SoftwareKeyStore
from tests.pki import TestPKI, build_pki
from tests.tsa.server import serve
from tsa.models import TSAToken

pytestmark = pytest.mark.interop


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required for the TSA interop tests (install the Debian package)")
    return path


@pytest.fixture
def tsa_url(settings: Settings, db: pw.Database, key_store: SoftwareKeyStore, pki: TestPKI) -> Iterator[str]:
    # The real clock: external validators compare genTime with their own "now".
    app = create_app(settings, ["tsa"], clock=SystemClock(), key_store=key_store, database=db)
    with serve(app) as base:
        yield f"{base}/tsa"


def _post(url: str, body: bytes) -> bytes:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/timestamp-query"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/timestamp-reply"
        return bytes(response.read())


def _ts_verify(reply: Path, root: Path, tsa_pem: Path, *source: str) -> list[str]:
    """`openssl ts -verify` of a reply against its query (-queryfile) or data (-data), trusting
    only our root, with the TSA certificate offered as untrusted (RFC 3161 §2.4.2 checks)."""
    return ["ts", "-verify", "-in", str(reply), *source, "-CAfile", str(root), "-untrusted", str(tsa_pem)]


def _run(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
def test_openssl_query_and_verify(tsa_url: str, pki: TestPKI, tmp_path: Path, digest: str) -> None:
    openssl = _tool("openssl")
    data = tmp_path / "data.txt"
    data.write_bytes(b"a document to time-stamp\n")
    query = tmp_path / "req.tsq"
    _run(openssl, "ts", "-query", "-data", str(data), f"-{digest}", "-cert", "-out", str(query))
    reply = tmp_path / "resp.tsr"
    reply.write_bytes(_post(tsa_url, query.read_bytes()))
    root, _chain = pki.write_chain(tmp_path)
    tsa_pem = tmp_path / "tsa.pem"
    tsa_pem.write_bytes(pki.cert("tsa").public_bytes(Encoding.PEM))
    text = _run(openssl, "ts", "-reply", "-in", str(reply), "-text")
    assert "Status: Granted." in text
    assert "Policy OID: 2.999.1.2.1" in text
    assert "Ordering: no" in text
    # RFC 3161 §2.4.2 checks by openssl: imprint, nonce, signature, ESSCertIDv2, EKU, chain.
    out = _run(
        openssl,
        *_ts_verify(reply, root, tsa_pem, "-queryfile", str(query)),
    )
    assert "Verification: OK" in out
    out = _run(
        openssl,
        *_ts_verify(reply, root, tsa_pem, "-data", str(data)),
    )
    assert "Verification: OK" in out
    assert TSAToken.select().count() == 1


def test_openssl_without_cert_req_and_tampered_data(tsa_url: str, pki: TestPKI, tmp_path: Path) -> None:
    openssl = _tool("openssl")
    data = tmp_path / "data.txt"
    data.write_bytes(b"original")
    query = tmp_path / "req.tsq"
    _run(openssl, "ts", "-query", "-data", str(data), "-sha256", "-no_nonce", "-out", str(query))
    reply = tmp_path / "resp.tsr"
    reply.write_bytes(_post(tsa_url, query.read_bytes()))
    root, _ = pki.write_chain(tmp_path)
    tsa_pem = tmp_path / "tsa.pem"
    tsa_pem.write_bytes(pki.cert("tsa").public_bytes(Encoding.PEM))
    # No certificate in the token: openssl needs it from -untrusted.
    out = _run(
        openssl,
        *_ts_verify(reply, root, tsa_pem, "-queryfile", str(query)),
    )
    assert "Verification: OK" in out
    data.write_bytes(b"tampered")
    result = subprocess.run(
        [
            openssl,
            *_ts_verify(reply, root, tsa_pem, "-data", str(data)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def test_openssl_sees_rejections(tsa_url: str, tmp_path: Path) -> None:
    openssl = _tool("openssl")
    data = tmp_path / "data.txt"
    data.write_bytes(b"x")
    query = tmp_path / "req.tsq"
    _run(openssl, "ts", "-query", "-data", str(data), "-sha1", "-out", str(query))
    reply = tmp_path / "resp.tsr"
    reply.write_bytes(_post(tsa_url, query.read_bytes()))
    text = _run(openssl, "ts", "-reply", "-in", str(reply), "-text")
    assert "Status: Rejected." in text
    assert "unrecognized or unsupported algorithm identifier" in text


def test_jarsigner_timestamps_a_jar(tsa_url: str, pki: TestPKI, tmp_path: Path) -> None:
    jar, keytool, jarsigner = _tool("jar"), _tool("keytool"), _tool("jarsigner")
    (tmp_path / "hello.txt").write_text("hello\n")
    _run(jar, "cf", "app.jar", "hello.txt", cwd=tmp_path)
    store = tmp_path / "signer.p12"
    _run(
        keytool,
        "-genkeypair",
        "-keystore",
        str(store),
        "-storetype",
        "PKCS12",
        "-storepass",
        "changeit",
        "-keypass",
        "changeit",
        "-alias",
        "signer",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=Throwaway Jar Signer",
        "-validity",
        "2",
    )
    _run(
        jarsigner,
        "-keystore",
        str(store),
        "-storepass",
        "changeit",
        "-tsa",
        tsa_url,
        "-digestalg",
        "SHA-256",
        str(tmp_path / "app.jar"),
        "signer",
    )
    # Verify against a trust store holding our root (for the TSA chain) and the throwaway signer.
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pki.root.public_bytes(Encoding.PEM))
    signer_pem = tmp_path / "signer.pem"
    _run(
        keytool,
        "-exportcert",
        "-rfc",
        "-keystore",
        str(store),
        "-storepass",
        "changeit",
        "-alias",
        "signer",
        "-file",
        str(signer_pem),
    )
    trust = tmp_path / "trust.p12"
    for alias, pem in (("sekap-root", root_pem), ("signer", signer_pem)):
        _run(
            keytool,
            "-importcert",
            "-noprompt",
            "-keystore",
            str(trust),
            "-storetype",
            "PKCS12",
            "-storepass",
            "changeit",
            "-alias",
            alias,
            "-file",
            str(pem),
        )
    out = _run(
        jarsigner,
        "-verify",
        "-verbose",
        "-certs",
        "-strict",
        "-keystore",
        str(trust),
        "-storepass",
        "changeit",
        str(tmp_path / "app.jar"),
    )
    assert "jar verified." in out
    assert f'Timestamped by "CN={pki.settings.tsa.common_name},' in out
    assert "Timestamp digest algorithm: SHA-256" in out
    assert "not validated" not in out  # the TSA chain reached our root
    assert TSAToken.select().count() == 1


def _throwaway_signer(tmp_path: Path) -> tuple[Path, Path, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Throwaway PDF Signer")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = tmp_path / "signer.key.pem", tmp_path / "signer.pem"
    key_path.write_bytes(
        key.private_bytes(Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(cert.public_bytes(Encoding.PEM))
    return key_path, cert_path, cert


def _blank_pdf() -> bytes:
    from io import BytesIO

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PdfFileWriter

    writer = PdfFileWriter()
    page = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Page"),
            generic.NameObject("/MediaBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 595, 842)]),
        }
    )
    writer.insert_page(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pyhanko_pades_b_t_with_our_tsa(tsa_url: str, pki: TestPKI, tmp_path: Path) -> None:
    from io import BytesIO

    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    key_path, cert_path, signer_cert = _throwaway_signer(tmp_path)
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path))
    assert signer is not None
    writer = IncrementalPdfFileWriter(BytesIO(_blank_pdf()))
    signed = signers.sign_pdf(
        writer,
        signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES),
        signer=signer,
        timestamper=HTTPTimeStamper(tsa_url),
    )
    reader = PdfFileReader(signed)
    (embedded,) = reader.embedded_signatures
    root = asn1_x509.Certificate.load(pki.root.public_bytes(Encoding.DER))
    own = asn1_x509.Certificate.load(signer_cert.public_bytes(Encoding.DER))
    status = validate_pdf_signature(
        embedded,
        signer_validation_context=ValidationContext(trust_roots=[own], allow_fetching=False),
        ts_validation_context=ValidationContext(trust_roots=[root], allow_fetching=False),
    )
    assert status.intact and status.valid
    timestamp = status.timestamp_validity
    assert timestamp is not None, "no signature time-stamp: not PAdES B-T"
    assert timestamp.intact and timestamp.valid and timestamp.trusted
    assert abs((timestamp.timestamp - datetime.now(UTC)).total_seconds()) < 120
    # pyHanko asks once more to size the signature container.
    assert TSAToken.select().count() >= 1


def test_rfc3161ng_checks_a_token(
    settings: Settings, db: pw.Database, key_store: SoftwareKeyStore, clock: object, tmp_path: Path
) -> None:
    import rfc3161ng

    # rfc3161ng verifies PKCS#1 v1.5 signatures only, so this ceremony gives the TSA an RSA key.
    ca = CASettings(tsa=AuthoritySettings("tsa", "SEKAP Trust Demo TSA", "rsa-2048", 1825))
    pki = build_pki(SystemClock(), key_store, ca)
    app = create_app(settings, ["tsa"], clock=SystemClock(), key_store=key_store, database=db)
    certificate = pki.cert("tsa").public_bytes(Encoding.PEM)
    with serve(app) as base:
        stamper = rfc3161ng.RemoteTimestamper(
            f"{base}/tsa", certificate=certificate, hashname="sha256", include_tsa_certificate=True
        )
        token = stamper.timestamp(data=b"rfc3161ng data")
    assert rfc3161ng.check_timestamp(token, certificate=certificate, data=b"rfc3161ng data", hashname="sha256")
    with pytest.raises(ValueError):
        rfc3161ng.check_timestamp(token, certificate=certificate, data=b"other data", hashname="sha256")
    assert rfc3161ng.get_timestamp(token, naive=False) <= datetime.now(UTC)
    assert TSAToken.get().imprint == hashlib.sha256(b"rfc3161ng data").hexdigest()
