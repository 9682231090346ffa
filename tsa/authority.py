"""The pure core: an accepted query, a serial and a time in; a signed time-stamp token out.

RFC 3161 §2.4.2 (TSTInfo), RFC 5652 (SignedData), RFC 5816 (ESSCertIDv2 in the
signingCertificateV2 attribute, SHA-256). No HTTP, SQL or configuration inside: the service
passes everything in.

Everything that does not change from token to token (certificate, algorithm identifiers,
signer identifier, contentType and signingCertificateV2 attributes, the TSA name) is encoded
once per :class:`TSASigner` (its CMS skeleton is :class:`core.cms.SignedDataSigner`); each token
only writes TSTInfo, the messageDigest attribute and the signature (see :mod:`core.der`). No
signingTime attribute: genTime is the time (RFC 5816 §2.2.1 keeps the signed attributes to what
RFC 3161 needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding

from ca.serials import to_hex
from core import der
from core.cms import SignedDataSigner
from tsa.query import TimeStampQuery

ID_CT_TSTINFO = "1.2.840.113549.1.9.16.1.4"


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
    """The TSA certificate and key, with the static DER of every token they sign (the CMS
    skeleton is :class:`core.cms.SignedDataSigner`)."""

    def __init__(self, certificate: x509.Certificate, key: CertificateIssuerPrivateKeyTypes, key_label: str) -> None:
        self.certificate = certificate
        self.key = key
        self.key_label = key_label
        self.serial_hex = to_hex(certificate.serial_number)  # the form ca_authority uses
        self.certificate_der = certificate.public_bytes(Encoding.DER)
        try:
            # RFC 5816 §2.2.1: ESSCertIDv2 with issuerSerial; no signingTime (genTime is the time).
            self._cms = SignedDataSigner(self.certificate_der, key, content_type=ID_CT_TSTINFO)
        except TypeError:
            raise TypeError(f"unsupported TSA key type {type(key).__name__}") from None
        self.digest_name = self._cms.digest_name
        # TSTInfo.tsa [0] GeneralName, directoryName [4] (both explicit: GeneralName is a CHOICE).
        self.tsa_name_der = der.explicit(0, der.explicit(4, self._cms.subject_der))

    def digest(self, data: bytes) -> bytes:
        return self._cms.digest(data)

    def signed_data(self, tst_info: bytes, *, include_certificate: bool) -> bytes:
        """ContentInfo(SignedData) over ``tst_info`` (DER TSTInfo), RFC 3161 §2.4.2 / RFC 5652 §5."""
        return self._cms.sign(tst_info, include_certificate=include_certificate)


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
    algorithm = der.oid(query.hash_oid) + (der.NULL if query.hash_params_null else b"")
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
