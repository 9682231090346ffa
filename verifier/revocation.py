"""Revocation data without the network: a local source that answers from our own CA database.

pyhanko-certvalidator asks its fetchers for OCSP responses and CRLs. Ours never open a socket:

- :class:`LocalOCSPFetcher` builds an RFC 6960 response for a certificate issued by one of our CAs
  from the CA's read interface (:func:`ca.status.status_by_issuer_name`), signed by that CA's
  delegated OCSP signer (authority ``<ca>-ocsp``), so the validator checks it like any OCSP response.
- :class:`LocalCRLFetcher` hands out the CRLs configured in ``verifier.local_crls``.
- :class:`NoCertificateFetcher` never fetches issuers (caIssuers URLs in documents are ignored).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncGenerator, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from pyhanko_certvalidator.authority import Authority as CVAuthority
from pyhanko_certvalidator.errors import OCSPFetchError
from pyhanko_certvalidator.fetchers.api import CertificateFetcher, CRLFetcher, Fetchers, OCSPFetcher

from ca.hierarchy import AuthorityInfo, authority_info, ca_by_key_hash
from ca.status import CertStatus, status_by_issuer_name
from core.clock import Clock
from core.signing import signature_hash
from hsm.base import KeyStore
from verifier.report import RevocationEvidence

_CRYPTO_STATUS = {
    "good": ocsp.OCSPCertStatus.GOOD,
    "revoked": ocsp.OCSPCertStatus.REVOKED,
    "unknown": ocsp.OCSPCertStatus.UNKNOWN,
}


class LocalRevocationSource:
    """Answers OCSP requests for our own CAs from the database. Safe to share between threads.

    The OCSP signer keys are looked up in the key store on first use and kept (a renewed signer
    has a new key label, so it is picked up automatically).
    """

    def __init__(self, key_store: Callable[[], KeyStore], clock: Clock, validity: timedelta) -> None:
        self._key_store = key_store
        self._clock = clock
        self._validity = validity
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _signer(self, ca: AuthorityInfo) -> tuple[x509.Certificate, Any]:
        row = authority_info(f"{ca.name}-ocsp")
        if row is None:
            raise OCSPFetchError(f"no delegated OCSP signer for {ca.name}")
        with self._lock:
            key = self._keys.get(row.key_label)
            if key is None:
                key = self._key_store().find(row.key_label)
                self._keys[row.key_label] = key
        return x509.load_der_x509_certificate(row.certificate_der), key

    def respond(
        self, cert_der: bytes, issuer_key_sha1: str, as_of: datetime | None = None
    ) -> tuple[bytes, RevocationEvidence] | None:
        """An OCSP response (DER) for ``cert_der`` when its issuer is one of our CAs, else None.

        ``as_of`` (point-in-time validation): a revocation after that time is not reported, since
        the certificate was good then; the evidence in the report still says it was revoked later.
        """
        ca = ca_by_key_hash(issuer_key_sha1)
        if ca is None:
            return None
        cert = x509.load_der_x509_certificate(cert_der)
        issuer_cert = x509.load_der_x509_certificate(ca.certificate_der)
        if cert.issuer != issuer_cert.subject:
            return None
        status = status_by_issuer_name(ca.name, cert.serial_number)
        reported: str = status.kind
        if (
            status.kind == "revoked"
            and as_of is not None
            and status.revoked_at is not None
            and status.revoked_at > as_of
        ):
            status = CertStatus("good")
            reported = "revoked-after-validation-time"
        responder_cert, key = self._signer(ca)
        now = self._clock.now()
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=cert,
            issuer=issuer_cert,
            algorithm=hashes.SHA256(),
            cert_status=_CRYPTO_STATUS[status.kind],
            this_update=now,
            next_update=now + self._validity,
            revocation_time=status.revoked_at if status.kind == "revoked" else None,
            revocation_reason=status.reason if status.kind == "revoked" else None,
        )
        response = (
            builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder_cert)
            .certificates([responder_cert])
            .sign(key, signature_hash(key))
        )
        evidence = RevocationEvidence(
            kind="OCSP",
            source="local",
            issuer=ca.subject,
            certificate_serial=format(cert.serial_number, "X"),
            status=reported,
            produced_at=now,
            this_update=now,
            next_update=now + self._validity,
        )
        return response.public_bytes(Encoding.DER), evidence


def _cert_key(cert: Any) -> bytes:
    return hashlib.sha256(cert.dump()).digest()


class LocalOCSPFetcher(OCSPFetcher):
    """One per verification: remembers what it answered so the report can show it."""

    def __init__(self, source: LocalRevocationSource, as_of: datetime | None = None) -> None:
        self._source = source
        self._as_of = as_of
        self._responses: dict[bytes, asn1_ocsp.OCSPResponse] = {}
        self.evidence: list[RevocationEvidence] = []

    async def fetch(self, cert: Any, authority: CVAuthority) -> asn1_ocsp.OCSPResponse:
        if not isinstance(cert, asn1_x509.Certificate):
            raise OCSPFetchError("attribute certificates are not served locally")
        answer = self._source.respond(cert.dump(), authority.public_key.sha1.hex(), self._as_of)
        if answer is None:
            raise OCSPFetchError("issuer is not one of our CAs; no network fetching")
        der, evidence = answer
        response = asn1_ocsp.OCSPResponse.load(der)
        self._responses[_cert_key(cert)] = response
        self.evidence.append(evidence)
        return response

    def fetched_responses(self) -> Iterable[asn1_ocsp.OCSPResponse]:
        return list(self._responses.values())

    def fetched_responses_for_cert(self, cert: Any) -> Iterable[asn1_ocsp.OCSPResponse]:
        response = self._responses.get(_cert_key(cert))
        return [response] if response is not None else []


class LocalCRLFetcher(CRLFetcher):
    """Serves configured CRLs (files named in ``verifier.local_crls``) by issuer name."""

    def __init__(self, crls: Iterable[asn1_crl.CertificateList]) -> None:
        self._crls = list(crls)
        self._done: set[bytes] = set()

    def _for(self, cert: Any) -> list[asn1_crl.CertificateList]:
        issuer = cert.issuer if isinstance(cert, asn1_x509.Certificate) else None
        return [c for c in self._crls if issuer is not None and c.issuer == issuer]

    async def fetch(self, cert: Any, *, use_deltas: Any = None) -> Iterable[asn1_crl.CertificateList]:
        self._done.add(_cert_key(cert))
        return self._for(cert)

    def fetched_crls(self) -> Iterable[asn1_crl.CertificateList]:
        return list(self._crls)

    def fetched_crls_for_cert(self, cert: Any) -> Iterable[asn1_crl.CertificateList]:
        if _cert_key(cert) not in self._done:
            raise KeyError("not fetched")
        return self._for(cert)


class NoCertificateFetcher(CertificateFetcher):
    """Issuer certificates come from the document and the trust store, never from URLs."""

    async def _nothing(self) -> AsyncGenerator[asn1_x509.Certificate, None]:
        empty: tuple[asn1_x509.Certificate, ...] = ()
        for cert in empty:
            yield cert

    def fetch_cert_issuers(self, cert: Any) -> AsyncGenerator[asn1_x509.Certificate, None]:
        return self._nothing()

    def fetch_crl_issuers(self, certificate_list: Any) -> AsyncGenerator[asn1_x509.Certificate, None]:
        return self._nothing()

    def fetched_certs(self) -> Iterable[asn1_x509.Certificate]:
        return []


def local_fetchers(
    source: LocalRevocationSource | None, crls: Iterable[asn1_crl.CertificateList], as_of: datetime | None = None
) -> tuple[Fetchers, LocalOCSPFetcher | None]:
    """Fetchers for one verification. Without a source (offline) OCSP is never answered."""
    ocsp_fetcher: OCSPFetcher
    local = LocalOCSPFetcher(source, as_of) if source is not None else None
    ocsp_fetcher = local if local is not None else _NoOCSPFetcher()
    return Fetchers(
        ocsp_fetcher=ocsp_fetcher, crl_fetcher=LocalCRLFetcher(crls), cert_fetcher=NoCertificateFetcher()
    ), local


class _NoOCSPFetcher(OCSPFetcher):
    async def fetch(self, cert: Any, authority: CVAuthority) -> asn1_ocsp.OCSPResponse:
        raise OCSPFetchError("offline: no OCSP")

    def fetched_responses(self) -> Iterable[asn1_ocsp.OCSPResponse]:
        return []

    def fetched_responses_for_cert(self, cert: Any) -> Iterable[asn1_ocsp.OCSPResponse]:
        return []


def describe_crl(item: asn1_crl.CertificateList, source: str) -> RevocationEvidence:
    tbs = item["tbs_cert_list"]
    next_update = tbs["next_update"].native
    return RevocationEvidence(
        kind="CRL",
        source=source,
        issuer=item.issuer.human_friendly,
        this_update=_utc(tbs["this_update"].native),
        next_update=_utc(next_update) if next_update else None,
    )


def describe_ocsp(item: asn1_ocsp.OCSPResponse, source: str) -> RevocationEvidence | None:
    try:
        basic = item.basic_ocsp_response
        data = basic["tbs_response_data"]
        single = data["responses"][0]
        status = single["cert_status"].name
        next_update = single["next_update"].native
        return RevocationEvidence(
            kind="OCSP",
            source=source,
            issuer=_responder(data["responder_id"]),
            certificate_serial=format(single["cert_id"]["serial_number"].native, "X"),
            status=status,
            produced_at=_utc(data["produced_at"].native),
            this_update=_utc(single["this_update"].native),
            next_update=_utc(next_update) if next_update else None,
        )
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def _responder(responder_id: Any) -> str:
    if responder_id.name == "by_name":
        return str(responder_id.chosen.human_friendly)
    return "key:" + bytes(responder_id.chosen.native).hex()


def _utc(value: datetime) -> datetime:
    from core.clock import ensure_utc

    return ensure_utc(value)
