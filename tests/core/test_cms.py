"""core.cms: the SignedData skeleton shared by TSA tokens and signed reports, checked with
asn1crypto's strict parser (RFC 5652 §5) and the signature verified independently."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from core.cms import ID_DATA, SignedDataSigner
from core.signing import signature_hash

ID_CT_TSTINFO = "1.2.840.113549.1.9.16.1.4"


def _certificate(private: CertificateIssuerPrivateKeyTypes) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cms")])
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(4242)
        .not_valid_before(at)
        .not_valid_after(at + timedelta(days=1))
        .sign(private, signature_hash(private))  # type: ignore[arg-type]
        .public_bytes(Encoding.DER)
    )


def _verify(private: CertificateIssuerPrivateKeyTypes, signature: bytes, data: bytes, digest_name: str) -> None:
    public = private.public_key()
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[digest_name]
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, data, ec.ECDSA(algorithm))
    elif isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, data, padding.PKCS1v15(), algorithm)
    else:
        assert isinstance(public, ed25519.Ed25519PublicKey)
        public.verify(signature, data)


KEYS = {
    "p-256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "p-384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "rsa-2048": lambda: rsa.generate_private_key(65537, 2048),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
}


@pytest.mark.parametrize("kind", list(KEYS))
@pytest.mark.parametrize("with_time", [False, True], ids=["no-signing-time", "signing-time"])
def test_signed_data_is_strict_der_and_verifies(kind: str, with_time: bool) -> None:
    private = KEYS[kind]()  # type: ignore[no-untyped-call]
    cert_der = _certificate(private)
    signer = SignedDataSigner(cert_der, private, content_type=ID_DATA, ess_issuer_serial=not with_time)
    at = datetime(2026, 3, 1, 12, 30, 15, 999, tzinfo=UTC) if with_time else None
    token = signer.sign(b"content", include_certificate=True, signing_time=at)
    info = cms.ContentInfo.load(token, strict=True)
    assert info.dump(force=True) == token  # X.690 DER: the canonical re-encoding is identical
    signed = info["content"]
    assert signed["version"].native == "v1"  # RFC 5652 §5.1: id-data, issuerAndSerialNumber
    assert signed["encap_content_info"]["content"].native == b"content"
    (embedded,) = signed["certificates"]
    assert embedded.chosen.dump() == cert_der
    (signer_info,) = signed["signer_infos"]
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    assert digest_name == ("sha512" if kind == "ed25519" else signature_hash(private).name)  # type: ignore[union-attr]
    # RFC 5754 §2: SHA-2 AlgorithmIdentifiers with absent parameters, in both places.
    assert signer_info["digest_algorithm"]["parameters"].native is None
    assert signed["digest_algorithms"][0].dump() == signer_info["digest_algorithm"].dump()
    attributes = signer_info["signed_attrs"]
    encodings = [a.dump() for a in attributes]
    assert encodings == sorted(encodings)  # X.690 §11.6
    values = {a["type"].native: a["values"][0] for a in attributes}
    assert values["content_type"].native == "data"
    assert values["message_digest"].native == hashlib.new(digest_name, b"content").digest()
    (ess,) = values["signing_certificate_v2"]["certs"]
    assert ess["cert_hash"].native == hashlib.sha256(cert_der).digest()
    assert (ess["issuer_serial"].native is None) == with_time
    if with_time:
        # RFC 5652 §11.3: UTCTime before 2050, whole seconds.
        assert values["signing_time"].name == "utc_time"
        assert values["signing_time"].native == datetime(2026, 3, 1, 12, 30, 15, tzinfo=UTC)
    else:
        assert "signing_time" not in values
    # RFC 5652 §5.4: the signature covers the attributes as an explicit SET OF.
    _verify(private, signer_info["signature"].native, b"\x31" + attributes.dump()[1:], digest_name)


def test_other_content_types_are_version_3_and_the_certificate_is_optional() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    signer = SignedDataSigner(_certificate(private), private, content_type=ID_CT_TSTINFO)
    signed = cms.ContentInfo.load(signer.sign(b"\x30\x00", include_certificate=False), strict=True)["content"]
    assert signed["version"].native == "v3"  # RFC 5652 §5.1: eContentType other than id-data
    assert signed["encap_content_info"]["content_type"].native == "tst_info"
    assert len(signed["certificates"]) == 0


def test_signing_time_from_2050_is_generalized_time() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    signer = SignedDataSigner(_certificate(private), private, content_type=ID_DATA)
    token = signer.sign(b"x", include_certificate=False, signing_time=datetime(2050, 1, 1, tzinfo=UTC))
    attributes = cms.ContentInfo.load(token, strict=True)["content"]["signer_infos"][0]["signed_attrs"]
    (time_value,) = [a["values"][0] for a in attributes if a["type"].native == "signing_time"]
    assert time_value.name == "generalized_time"  # RFC 5652 §11.3


def test_ed448_signers_are_refused() -> None:
    private = ed448.Ed448PrivateKey.generate()
    with pytest.raises(TypeError):
        SignedDataSigner(_certificate(private), private, content_type=ID_DATA)
