"""The pure OCSP core: parsed request + issuer index + status lookup + signer in, DER out.

No HTTP, SQL or configuration here (RFC 6960 §2.2–§2.3, §4.2; RFC 5019 §2.2; RFC 9654 §2.1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ca.status import CertStatus, StatusKind
from ocsp import der
from ocsp.request import HASH_ALGORITHMS, CertID, ParsedRequest
from ocsp.signer import ResponseSigner

HASH_NAMES = tuple(name for name, _length in HASH_ALGORITHMS.values())
# RFC 5280 §4.1.2.2: serials are positive and at most 20 octets; anything else was never issued.
_MAX_SERIAL_BITS = 160
ERROR_STATUSES = ("malformedRequest", "internalError", "tryLater", "sigRequired", "unauthorized")


@dataclass(frozen=True)
class ServedIssuer:
    """A CA this responder answers for (root or issuing)."""

    name: str
    authority_id: int


@dataclass(frozen=True)
class OCSPAnswer:
    """What the core produced: the DER OCSPResponse and, when signed, its times and statuses."""

    der: bytes
    response_status: str = "successful"
    produced_at: datetime | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    statuses: tuple[StatusKind, ...] = ()

    @property
    def successful(self) -> bool:
        return self.response_status == "successful"


StatusLookup = Callable[[ServedIssuer, int], CertStatus]
SignerLookup = Callable[[ServedIssuer], ResponseSigner]


@lru_cache(maxsize=256)
def issuer_hashes(certificate: x509.Certificate, algorithm: str) -> tuple[bytes, bytes]:
    """(issuerNameHash, issuerKeyHash) of a CA certificate for one algorithm (RFC 6960 §4.1.1):
    the hash of the DER subject and of the subjectPublicKey BIT STRING value."""
    spki = asn1_keys.PublicKeyInfo.load(
        certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    key_bits = spki["public_key"].contents[1:]  # drop the unused-bits octet
    return hashlib.new(algorithm, certificate.subject.public_bytes()).digest(), hashlib.new(
        algorithm, key_bits
    ).digest()


class IssuerIndex:
    """CertID (algorithm, name hash, key hash) → served CA, for every supported algorithm."""

    def __init__(self, issuers: Iterable[tuple[ServedIssuer, x509.Certificate]]) -> None:
        self._by_hashes: dict[tuple[str, bytes, bytes], ServedIssuer] = {}
        self._certs: dict[str, x509.Certificate] = {}
        for issuer, certificate in issuers:
            self._certs[issuer.name] = certificate
            for algorithm in HASH_NAMES:
                name_hash, key_hash = issuer_hashes(certificate, algorithm)
                self._by_hashes[(algorithm, name_hash, key_hash)] = issuer

    def find(self, cert_id: CertID) -> ServedIssuer | None:
        return self._by_hashes.get((cert_id.hash_algorithm, cert_id.issuer_name_hash, cert_id.issuer_key_hash))

    def certificate(self, name: str) -> x509.Certificate:
        return self._certs[name]

    @property
    def issuers(self) -> list[ServedIssuer]:
        return sorted({i.name: i for i in self._by_hashes.values()}.values(), key=lambda i: i.name)

    def __len__(self) -> int:
        return len(self._certs)


def cert_id_for(certificate: x509.Certificate, serial: int, algorithm: str = "sha1") -> CertID:
    """The CertID a client builds for ``serial`` under CA ``certificate`` (hash parameters NULL,
    as OpenSSL, GnuTLS and most clients send them)."""
    name_hash, key_hash = issuer_hashes(certificate, algorithm)
    return CertID(algorithm, name_hash, key_hash, serial, der.cert_id(algorithm, name_hash, key_hash, serial))


def error_response(status: str) -> bytes:
    """An unsigned OCSPResponse carrying only an error status (RFC 6960 §2.3, §4.2.1)."""
    if status not in ERROR_STATUSES:
        raise ValueError(f"not an OCSP error status: {status}")
    encoded: bytes = asn1_ocsp.OCSPResponse({"response_status": _status_name(status)}).dump()
    return encoded


def respond(
    request: ParsedRequest,
    index: IssuerIndex,
    lookup: StatusLookup,
    signer_for: SignerLookup,
    *,
    now: datetime,
    validity: timedelta,
) -> OCSPAnswer:
    """Answer every single request of ``request`` in one signed response.

    - RFC 6960 §2.3: a CertID whose issuer we do not serve → ``unauthorized`` for the message;
      so is a message mixing issuers, as one delegated signer can speak for one CA only.
    - RFC 6960 §2.2: ``unknown`` for a serial never issued by a served CA; never ``good``.
    - RFC 9654 §2.1: the nonce is echoed in responseExtensions.
    Raises :class:`~ocsp.errors.SignerUnavailableError` when the signer cannot be used.
    """
    issuers = [index.find(cert_id) for cert_id in request.cert_ids]
    first = issuers[0]
    if first is None or any(issuer != first for issuer in issuers):
        return OCSPAnswer(error_response("unauthorized"), "unauthorized")
    signer = signer_for(first)
    entries = [(cert_id, status_for_serial(first, cert_id.serial, lookup)) for cert_id in request.cert_ids]
    return sign_response(entries, signer, produced_at=now, validity=validity, nonce_extn_value=request.nonce_extn_value)


def status_for_serial(issuer: ServedIssuer, serial: int, lookup: StatusLookup) -> CertStatus:
    if serial <= 0 or serial.bit_length() > _MAX_SERIAL_BITS:
        return CertStatus("unknown")
    return lookup(issuer, serial)


def sign_response(
    entries: Sequence[tuple[CertID, CertStatus]],
    signer: ResponseSigner,
    *,
    produced_at: datetime,
    validity: timedelta,
    nonce_extn_value: bytes | None = None,
) -> OCSPAnswer:
    """A signed ``BasicOCSPResponse`` (RFC 6960 §4.2.1) wrapped in a successful OCSPResponse.

    responderID byKey (RFC 5019 §2.2.3), producedAt = thisUpdate, nextUpdate = thisUpdate +
    ``validity``, the delegated signer certificate in ``certs`` (RFC 6960 §4.2.2.2), the nonce
    extension echoed in responseExtensions with its extnValue exactly as received (RFC 9654 §2.1).
    CertIDs are echoed byte for byte.
    """
    this_update = produced_at.astimezone(UTC).replace(microsecond=0)
    next_update = this_update + validity
    times = der.generalized_time(this_update) + der.explicit(0, der.generalized_time(next_update))
    singles = b"".join(der.sequence(cert_id.der, _cert_status(status), times) for cert_id, status in entries)
    parts = [
        der.explicit(2, der.octet_string(signer.key_hash)),  # ResponderID byKey
        der.generalized_time(this_update),
        der.sequence(singles),
    ]
    if nonce_extn_value is not None:
        extension = der.sequence(der.OID_NONCE, der.octet_string(nonce_extn_value))
        parts.append(der.explicit(1, der.sequence(extension)))
    tbs = der.sequence(*parts)
    basic = der.sequence(
        tbs,
        signer.algorithm_der,
        der.bit_string(signer.sign(tbs)),
        der.explicit(0, der.sequence(signer.certificate_der)),
    )
    response = der.sequence(
        der.enumerated(0),  # successful
        der.explicit(0, der.sequence(der.OID_BASIC, der.octet_string(basic))),
    )
    return OCSPAnswer(response, "successful", this_update, this_update, next_update, tuple(s.kind for _c, s in entries))


def _cert_status(status: CertStatus) -> bytes:
    if status.kind == "good":
        return b"\x80\x00"  # [0] IMPLICIT NULL
    if status.kind == "revoked":
        if status.revoked_at is None:
            raise ValueError("a revoked status needs its revocation time")
        info = der.generalized_time(status.revoked_at.astimezone(UTC).replace(microsecond=0))
        # RFC 5280 §5.3.1: the reason code "unspecified" is better left out.
        if status.reason is not None and status.reason != x509.ReasonFlags.unspecified:
            info += der.explicit(0, der.enumerated(der.CRL_REASON_CODES[status.reason.name]))
        return der.tlv(0xA1, info)  # [1] IMPLICIT RevokedInfo
    return b"\x82\x00"  # [2] IMPLICIT UnknownInfo (NULL)


def _status_name(status: str) -> str:
    return {
        "malformedRequest": "malformed_request",
        "internalError": "internal_error",
        "tryLater": "try_later",
        "sigRequired": "sign_required",
        "unauthorized": "unauthorized",
    }[status]
