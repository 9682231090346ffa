"""The pure core: an accepted query, a serial and a time in; a signed time-stamp token out.

RFC 3161 §2.4.2 (TSTInfo), RFC 5652 (SignedData), RFC 5816 (ESSCertIDv2 in the
signingCertificateV2 attribute, SHA-256). No HTTP, SQL or configuration inside: the service
passes everything in.

Everything that does not change from token to token (certificate, algorithm identifiers,
signer identifier, contentType and signingCertificateV2 attributes, the TSA name) is encoded
once per :class:`TSASigner`; each token only writes TSTInfo, the messageDigest attribute and the
signature (see :mod:`tsa.der`). No signingTime attribute: genTime is the time (RFC 5816 §2.2.1
keeps the signed attributes to what RFC 3161 needs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding

from ca.serials import to_hex
from ca.x509util import signature_hash
from core import der
from tsa.query import TimeStampQuery

ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_CT_TSTINFO = "1.2.840.113549.1.9.16.1.4"
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"

DIGEST_OIDS = {
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
}
_ECDSA_OIDS = {"sha256": "1.2.840.10045.4.3.2", "sha384": "1.2.840.10045.4.3.3", "sha512": "1.2.840.10045.4.3.4"}
_RSA_OIDS = {"sha256": "1.2.840.113549.1.1.11", "sha384": "1.2.840.113549.1.1.12", "sha512": "1.2.840.113549.1.1.13"}
ED25519_OID = "1.3.101.112"
_NULL = b"\x05\x00"


@dataclass(frozen=True)
class TokenProfile:
    """Per-deployment shape of tokens (from :class:`tsa.settings.TSASettings`)."""

    accuracy_ms: int = 1000
    gen_time_precision: int = 0
    include_tsa_name: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.gen_time_precision <= 6:
            raise ValueError("gen_time_precision must be 0..6")
        if self.accuracy_ms < 1:
            raise ValueError("accuracy_ms must be positive")


def truncate(at: datetime, precision: int) -> datetime:
    """``at`` cut (never rounded up) to ``precision`` fractional digits."""
    step = 10 ** (6 - precision)
    return at.replace(microsecond=at.microsecond - at.microsecond % step)


def format_gen_time(at: datetime, precision: int) -> str:
    """GeneralizedTime text for genTime: UTC ``Z``, at most ``precision`` fractional digits and
    never a trailing zero or a bare dot (RFC 3161 §2.4.2, X.690 §11.7)."""
    if at.utcoffset() != timedelta(0):
        raise ValueError("genTime must be an aware UTC datetime")
    fraction = f"{at.microsecond:06d}"[:precision].rstrip("0")
    return at.strftime("%Y%m%d%H%M%S") + (f".{fraction}" if fraction else "") + "Z"


def encode_accuracy(accuracy_ms: int) -> bytes:
    """Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] 1..999 OPTIONAL, micros [1] ... }."""
    seconds, millis = divmod(accuracy_ms, 1000)
    parts = []
    if seconds:
        parts.append(der.integer(seconds))
    if millis:
        parts.append(der.implicit_primitive(0, der.integer(millis)[2:]))
    return der.sequence(*parts)


class TSASigner:
    """The TSA certificate and key, with the static DER of every token they sign."""

    def __init__(self, certificate: x509.Certificate, key: CertificateIssuerPrivateKeyTypes, key_label: str) -> None:
        self.certificate = certificate
        self.key = key
        self.key_label = key_label
        self.serial_hex = to_hex(certificate.serial_number)  # the form ca_authority uses
        self.certificate_der = certificate.public_bytes(Encoding.DER)
        parsed = asn1_x509.Certificate.load(self.certificate_der)
        tbs = parsed["tbs_certificate"]
        issuer_der = tbs["issuer"].dump()
        subject_der = tbs["subject"].dump()
        serial_der = tbs["serial_number"].dump()

        chosen = signature_hash(key)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            # RFC 8419 §3.1: with Ed25519 the message digest is SHA-512.
            self.digest_name = "sha512"
            self._hash: hashes.HashAlgorithm = hashes.SHA512()
            signature_algorithm = der.sequence(der.oid(ED25519_OID))
        else:
            if chosen is None:
                raise TypeError(f"unsupported TSA key type {type(key).__name__}")
            self.digest_name = chosen.name
            self._hash = chosen
            if isinstance(key, ec.EllipticCurvePrivateKey):
                signature_algorithm = der.sequence(der.oid(_ECDSA_OIDS[self.digest_name]))
            elif isinstance(key, rsa.RSAPrivateKey):
                signature_algorithm = der.sequence(der.oid(_RSA_OIDS[self.digest_name]), _NULL)
            else:
                raise TypeError(f"unsupported TSA key type {type(key).__name__}")
        # RFC 5754 §2: SHA-2 digest AlgorithmIdentifiers without parameters.
        digest_algorithm = der.sequence(der.oid(DIGEST_OIDS[self.digest_name]))
        self._digest_algorithms = der.set_of(digest_algorithm)
        self._signer_prefix = b"".join(
            (
                der.integer(1),  # CMSVersion 1: sid is issuerAndSerialNumber
                der.sequence(issuer_der, serial_der),
                digest_algorithm,
            )
        )
        self._signature_algorithm = signature_algorithm
        content_type_attribute = der.sequence(der.oid(ID_CONTENT_TYPE), der.set_of(der.oid(ID_CT_TSTINFO)))
        # ESSCertIDv2 (RFC 5816 §2.2.1): hashAlgorithm is DEFAULT sha256, so DER omits it.
        ess_cert_id = der.sequence(
            der.octet_string(hashlib.sha256(self.certificate_der).digest()),
            der.sequence(der.sequence(der.explicit(4, issuer_der)), serial_der),
        )
        signing_certificate_attribute = der.sequence(
            der.oid(ID_SIGNING_CERTIFICATE_V2), der.set_of(der.sequence(der.sequence(ess_cert_id)))
        )
        self._attributes_around_digest = _split_around_digest(
            lambda digest: der.set_of(
                content_type_attribute,
                der.sequence(der.oid(ID_MESSAGE_DIGEST), der.set_of(der.octet_string(digest))),
                signing_certificate_attribute,
            ),
            hashlib.new(self.digest_name).digest_size,
        )
        # TSTInfo.tsa [0] GeneralName, directoryName [4] (both explicit: GeneralName is a CHOICE).
        self.tsa_name_der = der.explicit(0, der.explicit(4, subject_der))
        self._certificates = der.tlv(0xA0, self.certificate_der)
        self._version_and_algorithms = der.integer(3) + self._digest_algorithms

    def digest(self, data: bytes) -> bytes:
        return hashlib.new(self.digest_name, data).digest()

    def sign(self, data: bytes) -> bytes:
        key = self.key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(self._hash))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), self._hash)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        raise TypeError(f"unsupported TSA key type {type(key).__name__}")

    def signed_data(self, tst_info: bytes, *, include_certificate: bool) -> bytes:
        """ContentInfo(SignedData) over ``tst_info`` (DER TSTInfo), RFC 3161 §2.4.2 / RFC 5652 §5."""
        before, after = self._attributes_around_digest
        digest = self.digest(tst_info)
        # RFC 5652 §5.4: the signature covers the attributes' DER with the SET OF tag.
        signature = self.sign(before + digest + after)
        signer_info = der.sequence(
            self._signer_prefix,
            b"\xa0" + before[1:],  # [0] IMPLICIT SET OF Attribute
            digest,
            after,
            self._signature_algorithm,
            der.octet_string(signature),
        )
        content = der.sequence(_TSTINFO_CONTENT_TYPE, der.explicit(0, der.octet_string(tst_info)))
        signed = der.sequence(
            self._version_and_algorithms,
            content,
            self._certificates if include_certificate else b"",
            der.tlv(der.SET, signer_info),  # a SET OF one element is already in DER order
        )
        return der.sequence(_SIGNED_DATA_CONTENT_TYPE, der.explicit(0, signed))


_TSTINFO_CONTENT_TYPE = der.oid(ID_CT_TSTINFO)
_SIGNED_DATA_CONTENT_TYPE = der.oid(ID_SIGNED_DATA)


def _split_around_digest(encode: Callable[[bytes], bytes], size: int) -> tuple[bytes, bytes]:
    """The signed attributes' DER as the bytes before and after the messageDigest value.

    Tokens differ only in that value, whose length the digest fixes; so every length and the
    SET OF order (decided by the attributes' length octets and OIDs, before the value) are the
    same for every token. Checked here with two different values rather than assumed."""
    probe = b"\xa5" * size
    encoded = encode(probe)
    if encoded.count(probe) != 1:
        raise RuntimeError("the messageDigest value is not unique in the attributes")
    before, after = encoded.split(probe)
    other = b"\x5a" * size
    if encode(other) != before + other + after:
        raise RuntimeError("the signed attributes' layout depends on the digest value")
    return before, after


def encode_tst_info(
    query: TimeStampQuery,
    *,
    policy: str,
    serial: int,
    gen_time: datetime,
    profile: TokenProfile,
    tsa_name: bytes | None,
) -> bytes:
    """TSTInfo v1 (RFC 3161 §2.4.2): policy, the query's messageImprint, serial, genTime,
    accuracy, ordering FALSE (DEFAULT, so absent in DER), the nonce echoed and the TSA name."""
    algorithm = der.oid(query.hash_oid) + (_NULL if query.hash_params_null else b"")
    parts = [
        der.integer(1),
        der.oid(policy),
        der.sequence(der.sequence(algorithm), der.octet_string(query.imprint)),
        der.integer(serial),
        der.tlv(der.GENERALIZED_TIME, format_gen_time(gen_time, profile.gen_time_precision).encode("ascii")),
        encode_accuracy(profile.accuracy_ms),
    ]
    if query.nonce is not None:
        parts.append(der.integer(query.nonce))
    if tsa_name is not None:
        parts.append(tsa_name)
    return der.sequence(*parts)


def issue_token(
    query: TimeStampQuery,
    *,
    signer: TSASigner,
    policy: str,
    serial: int,
    gen_time: datetime,
    profile: TokenProfile,
) -> bytes:
    """The time-stamp token (ContentInfo DER) for an accepted ``query``; the TSA certificate is
    included only when the query's certReq is true (RFC 3161 §2.4.1)."""
    tst_info = encode_tst_info(
        query,
        policy=policy,
        serial=serial,
        gen_time=gen_time,
        profile=profile,
        tsa_name=signer.tsa_name_der if profile.include_tsa_name else None,
    )
    return signer.signed_data(tst_info, include_certificate=query.cert_req)


_GRANTED_STATUS = der.sequence(der.integer(0))


def granted(token: bytes) -> bytes:
    """TimeStampResp with status granted (0) and the token (RFC 3161 §2.4.2)."""
    return der.sequence(_GRANTED_STATUS, token)


def rejected(fail_info: str, text: str) -> bytes:
    """TimeStampResp with status rejection (2), one failInfo bit and a short explanation."""
    # asn1crypto's TimeStampResp lacks OPTIONAL on timeStampToken, so only the status is built there.
    status = tsp.PKIStatusInfo({"status": "rejection", "status_string": [text], "fail_info": {fail_info}})
    return der.sequence(status.dump(force=True))
