"""The signed report: the report JSON encapsulated in a CMS SignedData (RFC 5652, CAdES B-B
attributes of ETSI EN 319 122-1 §5.2: content-type, message-digest, signing-time,
signing-certificate-v2), so the portal can archive one self-contained file.

Attached (encapsulated) rather than detached: the archived ``.p7m`` carries the exact JSON bytes
that were signed, so nobody has to keep two files byte-identical. Media type
``application/pkcs7-mime; smime-type=signed-data`` (RFC 8551 §3.2).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from ca.x509util import signature_hash
from verifier.errors import ReportSigningError

SIGNED_REPORT_MEDIA_TYPE = "application/pkcs7-mime; smime-type=signed-data"


def sign_report(payload: bytes, key: Any, certificate: x509.Certificate, signing_time: datetime) -> bytes:
    """CMS SignedData (DER) encapsulating ``payload``, signed by ``key`` (any cryptography key object,
    software or HSM-backed)."""
    hash_algorithm = signature_hash(key)
    if hash_algorithm is None and not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ReportSigningError("unsupported report signer key")
    digest_name = hash_algorithm.name if hash_algorithm is not None else "sha512"
    cert_der = certificate.public_bytes(Encoding.DER)
    cert = asn1_x509.Certificate.load(cert_der)
    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]}),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.new(digest_name, payload).digest()]}),
            cms.CMSAttribute(
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        tsp.SigningCertificateV2(
                            {
                                "certs": [
                                    tsp.ESSCertIDv2(
                                        {
                                            "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                                            "cert_hash": hashlib.sha256(cert_der).digest(),
                                        }
                                    )
                                ]
                            }
                        )
                    ],
                }
            ),
        ]
    )
    to_sign = signed_attrs.dump()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        assert hash_algorithm is not None
        signature = key.sign(to_sign, ec.ECDSA(hash_algorithm))
        mechanism = f"{digest_name}_ecdsa"
    elif isinstance(key, rsa.RSAPrivateKey):
        assert hash_algorithm is not None
        signature = key.sign(to_sign, padding.PKCS1v15(), hash_algorithm)
        mechanism = f"{digest_name}_rsa"
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(to_sign)
        mechanism = "ed25519"
    else:
        raise ReportSigningError("unsupported report signer key")
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": cert.issuer, "serial_number": cert.serial_number}
                    )
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_name}),
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": mechanism}),
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest_name})],
            "encap_content_info": {"content_type": "data", "content": payload},
            "certificates": [cert],
            "signer_infos": [signer_info],
        }
    )
    der: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return der
