"""One CMS SignedData skeleton (RFC 5652 §5) for what the project signs itself: time-stamp
tokens (RFC 3161 §2.4.2, RFC 5816) and the verifier's signed reports (CAdES B-B attributes of
ETSI EN 319 122-1 §5.2).

A :class:`SignedDataSigner` is built once per key and certificate and encodes everything that
does not change between signatures (algorithm identifiers, signer identifier, contentType and
signingCertificateV2 attributes, the certificate). Without a signingTime, the signed attributes
differ only in the messageDigest value, so they are kept as the bytes before and after it and
each signature writes only the content, the digest and the signature (the TSA's hot path).
Algorithms follow :mod:`core.signing`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from core import der, signing

ID_DATA = "1.2.840.113549.1.7.1"
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ID_SIGNING_TIME = "1.2.840.113549.1.9.5"
ID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"

_SIGNED_DATA_CONTENT_TYPE = der.oid(ID_SIGNED_DATA)


class SignedDataSigner:
    """Signs content as CMS SignedData with one signer (``key``, ``certificate_der``).

    ``content_type`` is the eContentType (and the contentType attribute). ``ess_issuer_serial``
    puts issuerSerial into the ESSCertIDv2 (RFC 5816 §2.2.1 for TSA tokens)."""

    def __init__(
        self,
        certificate_der: bytes,
        key: CertificateIssuerPrivateKeyTypes,
        *,
        content_type: str,
        ess_issuer_serial: bool = True,
    ) -> None:
        self.certificate_der = certificate_der
        self.digest_name = signing.cms_digest_name(key)
        self._sign: Callable[[bytes], bytes] = signing.signer(key)
        tbs = asn1_x509.Certificate.load(certificate_der)["tbs_certificate"]
        self.issuer_der: bytes = tbs["issuer"].dump()
        self.subject_der: bytes = tbs["subject"].dump()
        serial_der: bytes = tbs["serial_number"].dump()
        digest_algorithm = signing.digest_algorithm(self.digest_name)
        self._signer_prefix = b"".join(
            (
                der.integer(1),  # CMSVersion 1: sid is issuerAndSerialNumber (RFC 5652 §5.3)
                der.sequence(self.issuer_der, serial_der),
                digest_algorithm,
            )
        )
        self._signature_algorithm = signing.signature_algorithm(key)
        # RFC 5652 §5.1: version 3 when eContentType is not id-data, else 1.
        version = 1 if content_type == ID_DATA else 3
        self._version_and_algorithms = der.integer(version) + der.set_of(digest_algorithm)
        self._content_type = der.oid(content_type)
        self._certificates = der.tlv(0xA0, certificate_der)
        self._constant_attributes = (
            der.sequence(der.oid(ID_CONTENT_TYPE), der.set_of(self._content_type)),
            _signing_certificate_v2(certificate_der, self.issuer_der, serial_der if ess_issuer_serial else None),
        )
        self._around_digest = _split_around_digest(
            lambda digest: der.set_of(*self._constant_attributes, _message_digest(digest)),
            hashlib.new(self.digest_name).digest_size,
        )

    def digest(self, data: bytes) -> bytes:
        return hashlib.new(self.digest_name, data).digest()

    def sign(self, content: bytes, *, include_certificate: bool, signing_time: datetime | None = None) -> bytes:
        """ContentInfo(SignedData) DER encapsulating ``content``, with a signingTime attribute
        when ``signing_time`` is given (RFC 5652 §11.3)."""
        digest = self.digest(content)
        if signing_time is None:
            before, after = self._around_digest
            attributes = before + digest + after
        else:
            attributes = der.set_of(*self._constant_attributes, _message_digest(digest), _signing_time(signing_time))
        # RFC 5652 §5.4: the signature covers the attributes' DER with the SET OF tag.
        signer_info = der.sequence(
            self._signer_prefix,
            b"\xa0" + attributes[1:],  # [0] IMPLICIT SET OF Attribute
            self._signature_algorithm,
            der.octet_string(self._sign(attributes)),
        )
        signed = der.sequence(
            self._version_and_algorithms,
            der.sequence(self._content_type, der.explicit(0, der.octet_string(content))),
            self._certificates if include_certificate else b"",
            der.tlv(der.SET, signer_info),  # a SET OF one element is already in DER order
        )
        return der.sequence(_SIGNED_DATA_CONTENT_TYPE, der.explicit(0, signed))

    def counter_signer_info(self, signature_value: bytes, signing_time: datetime) -> bytes:
        """A countersignature SignerInfo (RFC 5652 §11.4, EN 319 122-1 §5.2.7) over another
        signer's ``signature_value`` octets: messageDigest, signingTime and
        signingCertificateV2 signed, and no contentType (a counter-signature has none)."""
        attributes = der.set_of(
            _message_digest(self.digest(signature_value)),
            _signing_time(signing_time),
            self._constant_attributes[1],
        )
        return der.sequence(
            self._signer_prefix,
            b"\xa0" + attributes[1:],
            self._signature_algorithm,
            der.octet_string(self._sign(attributes)),
        )


def _message_digest(digest: bytes) -> bytes:
    return der.sequence(der.oid(ID_MESSAGE_DIGEST), der.set_of(der.octet_string(digest)))


def _signing_time(at: datetime) -> bytes:
    """RFC 5652 §11.3: UTCTime for 1950 through 2049, GeneralizedTime otherwise; seconds, Z."""
    at = at.astimezone(UTC)
    if 1950 <= at.year < 2050:
        value = der.tlv(der.UTC_TIME, at.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    else:
        value = der.generalized_time(at)
    return der.sequence(der.oid(ID_SIGNING_TIME), der.set_of(value))


def _signing_certificate_v2(certificate_der: bytes, issuer_der: bytes, serial_der: bytes | None) -> bytes:
    """signingCertificateV2 (RFC 5035 §3, RFC 5816 §2.2.1) with one ESSCertIDv2 whose
    hashAlgorithm is the DEFAULT sha256, so DER omits it."""
    parts = [der.octet_string(hashlib.sha256(certificate_der).digest())]
    if serial_der is not None:
        # IssuerSerial: issuer GeneralNames with one directoryName [4], and the serial.
        parts.append(der.sequence(der.sequence(der.explicit(4, issuer_der)), serial_der))
    ess_cert_id = der.sequence(*parts)
    return der.sequence(der.oid(ID_SIGNING_CERTIFICATE_V2), der.set_of(der.sequence(der.sequence(ess_cert_id))))


def _split_around_digest(encode: Callable[[bytes], bytes], size: int) -> tuple[bytes, bytes]:
    """The signed attributes' DER as the bytes before and after the messageDigest value.

    Signatures differ only in that value, whose length the digest fixes; so every length and the
    SET OF order (decided by the attributes' length octets and OIDs, before the value) are the
    same for every signature. Checked here with two different values rather than assumed."""
    probe = b"\xa5" * size
    encoded = encode(probe)
    if encoded.count(probe) != 1:
        raise RuntimeError("the messageDigest value is not unique in the attributes")
    before, after = encoded.split(probe)
    other = b"\x5a" * size
    if encode(other) != before + other + after:
        raise RuntimeError("the signed attributes' layout depends on the digest value")
    return before, after
