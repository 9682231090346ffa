"""Test material for the verifier, generated at test time (no committed keys): citizen
certificates issued by the ceremony's citizen CA, and signed fixtures from independent tools."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import falcon
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from ca.models import Certificate
from ca.serials import new_serial, to_hex
from ca.x509util import fingerprint
from core.auth import Principal
from core.signing import signature_hash
from tests.pki import TestPKI

PNOPL = "PNOPL-80010112345"


@dataclass
class Citizen:
    key: Any
    cert: x509.Certificate
    key_path: Path
    cert_path: Path
    chain_path: Path  # issuing CA (what openssl -certfile adds)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def issue_citizen(
    pki: TestPKI,
    directory: Path,
    *,
    name: str = "Jan Testowy",
    semantics_id: str = PNOPL,
    key_kind: str = "ec",
    revoked_at: datetime | None = None,
    reason: str = "keyCompromise",
    store: bool = True,
    not_before: datetime | None = None,
    issuer_name: str = "citizens",
    foreign: bool = False,
    aia: bool = True,
) -> Citizen:
    """An end-entity signing certificate from the citizen CA, stored as ``issued`` (or revoked with
    ``reason`` at ``revoked_at``; ``certificateHold`` for a suspension)."""
    now = pki.clock.now()
    key: Any
    if key_kind == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    elif key_kind.startswith("rsa"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(key_kind[3:] or 2048))
    else:
        raise ValueError(key_kind)
    given, surname = name.split(" ", 1)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
            x509.NameAttribute(NameOID.GIVEN_NAME, given),
            x509.NameAttribute(NameOID.SURNAME, surname),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, semantics_id),
        ]
    )
    issuer_cert = pki.cert(issuer_name)
    issuer_key = pki.key(issuer_name)
    if foreign:
        issuer_key, issuer_cert = foreign_ca(now)
        store = False
    serial = new_serial()
    start = not_before or now - timedelta(days=8)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if True:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    if aia:  # without it the certificate declares no revocation source at all
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(pki.settings.ocsp_url)
                    )
                ]
            ),
            critical=False,
        )
    cert = builder.sign(issuer_key, signature_hash(issuer_key))  # type: ignore[arg-type]
    if store:
        Certificate.create(
            issuer=pki.row(issuer_name),
            serial=to_hex(serial),
            state="issued",
            profile="citizen",
            subject=cert.subject.rfc4514_string(),
            tbs_der=cert.tbs_certificate_bytes,
            der=cert.public_bytes(serialization.Encoding.DER),
            fingerprint_sha256=fingerprint(cert),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            created_at=now,
            issued_at=now,
            revocation_reason=reason if revoked_at else None,
            revoked_at=revoked_at,
            status_changed_at=revoked_at,
        )
    directory.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha256(str(serial).encode()).hexdigest()[:8]
    key_path = directory / f"citizen-{tag}.key"
    cert_path = directory / f"citizen-{tag}.pem"
    chain_path = directory / f"chain-{tag}.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    chain_path.write_bytes(issuer_cert.public_bytes(serialization.Encoding.PEM))
    return Citizen(key, cert, key_path, cert_path, chain_path)


def foreign_ca(now: datetime) -> tuple[Any, x509.Certificate]:
    """A CA nobody configured as a trust anchor."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Foreign Test CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def tool(name: str) -> str:
    """Interop tests fail (never skip) when the tool is missing."""
    path = shutil.which(name)
    assert path is not None, f"{name} is required (Debian package: {'xmlsec1' if name == 'xmlsec1' else name})"
    return path


def openssl_cms_sign(
    citizen: Citizen, content: Path, *, attached: bool, md: str = "sha256", cades: bool = True
) -> bytes:
    """``openssl cms -sign``; ``-cades`` adds the signing-certificate-v2 attribute (EN 319 122-1)."""
    args = [
        tool("openssl"),
        "cms",
        "-sign",
        "-binary",
        "-in",
        str(content),
        "-signer",
        str(citizen.cert_path),
        "-inkey",
        str(citizen.key_path),
        "-certfile",
        str(citizen.chain_path),
        "-md",
        md,
        "-outform",
        "DER",
    ]
    if attached:
        args.append("-nodetach")
    if md != "sha1" and cades:
        args.append("-cades")
    return subprocess.run(args, check=True, capture_output=True, timeout=30).stdout


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


class PrincipalMiddleware:
    def __init__(self, principal: Principal | None) -> None:
        self.principal = principal

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self.principal is not None:
            req.context.principal = self.principal


PORTAL = Principal("portal", "1", scopes=frozenset({"verify"}))


def multipart(
    parts: list[tuple[str, str | None, str | None, bytes]], boundary: str = "sekap-boundary-42"
) -> tuple[str, bytes]:
    body = b""
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if content_type:
            body += f"Content-Type: {content_type}\r\n".encode()
        body += b"\r\n" + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body
