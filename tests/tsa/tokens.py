"""Independent checks of a token: strict DER, RFC 5652 signature over the DER-sorted signed
attributes, RFC 5816 ESSCertIDv2, no signingTime."""

from __future__ import annotations

import hashlib

from asn1crypto import cms, core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

HASHES = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


def check_token(token: bytes, certificate: x509.Certificate) -> tsp.TSTInfo:
    info = cms.ContentInfo.load(token, strict=True)
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    # X.690 DER: asn1crypto's canonical re-encoding is byte-identical. (The embedded certificate
    # is compared byte for byte instead: re-encoding it with asn1crypto takes ~0.5 s.)
    has_certificates = not isinstance(signed["certificates"], core.Void) and len(signed["certificates"]) > 0
    if has_certificates:
        (embedded,) = signed["certificates"]
        assert embedded.chosen.dump() == certificate.public_bytes(Encoding.DER)
        for name, spec in (
            ("digest_algorithms", cms.DigestAlgorithms),
            ("encap_content_info", cms.EncapsulatedContentInfo),
            ("signer_infos", cms.SignerInfos),
        ):
            original = signed[name].dump()
            assert spec.load(original).dump(force=True) == original
    else:
        assert cms.ContentInfo.load(token).dump(force=True) == token
    assert signed["version"].native == "v3"  # RFC 5652 §5.1: eContentType other than id-data
    encap = signed["encap_content_info"]
    assert encap["content_type"].native == "tst_info"
    tst_der = bytes(encap["content"].contents)
    tst_info = tsp.TSTInfo.load(tst_der, strict=True)
    assert tst_info.dump(force=True) == tst_der
    (signer,) = signed["signer_infos"]
    digest_name = signer["digest_algorithm"]["algorithm"].native
    assert [a["algorithm"].native for a in signed["digest_algorithms"]] == [digest_name]
    sid = signer["sid"].chosen
    assert sid["serial_number"].native == certificate.serial_number
    assert sid["issuer"].dump() == certificate.issuer.public_bytes()
    attributes = signer["signed_attrs"]
    encodings = [a.dump() for a in attributes]
    # X.690 §11.6: SET OF in ascending order of encodings.
    assert encodings == sorted(encodings)
    types = {a["type"].native: a["values"] for a in attributes}
    assert set(types) == {"content_type", "message_digest", "signing_certificate_v2"}  # RFC 5816: no signingTime
    assert types["content_type"][0].native == "tst_info"
    assert types["message_digest"][0].native == hashlib.new(digest_name, tst_der).digest()
    (ess,) = types["signing_certificate_v2"][0]["certs"]
    cert_der = certificate.public_bytes(Encoding.DER)
    assert ess["hash_algorithm"]["algorithm"].native == "sha256"
    assert ess["cert_hash"].native == hashlib.sha256(cert_der).digest()
    (general_name,) = ess["issuer_serial"]["issuer"]
    assert general_name.name == "directory_name"
    assert general_name.chosen.untag().dump() == certificate.issuer.public_bytes()
    assert ess["issuer_serial"]["serial_number"].native == certificate.serial_number
    # RFC 5652 §5.4: the signature covers the attributes encoded as a SET OF.
    signed_bytes = b"\x31" + attributes.dump()[1:]
    signature = signer["signature"].native
    public_key = certificate.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        assert signer["signature_algorithm"]["algorithm"].native == f"{digest_name}_ecdsa"
        public_key.verify(signature, signed_bytes, ec.ECDSA(HASHES[digest_name]))
    elif isinstance(public_key, rsa.RSAPublicKey):
        assert signer["signature_algorithm"]["algorithm"].native == f"{digest_name}_rsa"
        public_key.verify(signature, signed_bytes, padding.PKCS1v15(), HASHES[digest_name])
    else:
        assert isinstance(public_key, ed25519.Ed25519PublicKey)
        assert digest_name == "sha512"  # RFC 8419 §3.1
        assert signer["signature_algorithm"]["algorithm"].native == "ed25519"
        public_key.verify(signature, signed_bytes)
    return tst_info


def certificates_in(token: bytes) -> list[bytes]:
    signed = cms.ContentInfo.load(token)["content"]
    if isinstance(signed["certificates"], core.Void):
        return []
    return [c.chosen.dump() for c in signed["certificates"]]
