"""What one verification runs against: trust store, revocation policy, validation time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.generic_cms import validate_cert_usage

from verifier.policy import SIGNER_KEY_USAGE, TrustStore, VerificationContexts, build_contexts
from verifier.report import RevocationEvidence
from verifier.revocation import LocalRevocationSource, describe_crl, describe_ocsp


@dataclass
class VerificationEnvironment:
    trust: TrustStore
    mode: str
    moment: datetime
    source: LocalRevocationSource | None
    _contexts: list[VerificationContexts] = field(default_factory=list)
    _document_evidence: list[RevocationEvidence] = field(default_factory=list)

    def contexts(
        self,
        other_certs: Iterable[asn1_x509.Certificate] = (),
        crls: Iterable[asn1_crl.CertificateList] = (),
        ocsps: Iterable[asn1_ocsp.OCSPResponse] = (),
        moment: datetime | None = None,
    ) -> VerificationContexts:
        crls, ocsps = list(crls), list(ocsps)
        for item in crls:
            self._document_evidence.append(describe_crl(item, "document"))
        for response in ocsps:
            described = describe_ocsp(response, "document")
            if described is not None:
                self._document_evidence.append(described)
        contexts = build_contexts(
            self.trust,
            mode=self.mode,
            moment=moment or self.moment,
            source=None if self.mode == "offline" else self.source,
            other_certs=other_certs,
            document_crls=crls,
            document_ocsps=ocsps,
        )
        self._contexts.append(contexts)
        return contexts

    async def signer_valid_at(
        self,
        cert: asn1_x509.Certificate,
        poe_time: datetime,
        other_certs: Iterable[asn1_x509.Certificate] = (),
        crls: Iterable[asn1_crl.CertificateList] = (),
        ocsps: Iterable[asn1_ocsp.OCSPResponse] = (),
    ) -> tuple[VerificationContexts, Any] | None:
        """EN 319 102-1 §5.5 (simplified): with a proof of existence (a validated signature
        timestamp) at ``poe_time``, validate the signer's certificate at that time. Returns the
        contexts and the validated path when the path is valid then, else None."""
        later = self.contexts(other_certs=other_certs, crls=crls, ocsps=ocsps, moment=poe_time)
        result = await validate_cert_usage(
            cert,
            later.signer,
            key_usage_settings=SIGNER_KEY_USAGE,
            paths=later.signer.path_builder.async_build_paths_lazy(cert),
            pkix_validation_params=self.trust.policy.pkix_params(),
        )
        if result.error_subindic is None and result.success_result is not None:
            return later, result.success_result
        return None

    def evidence(self, contexts: VerificationContexts) -> tuple[RevocationEvidence, ...]:
        """Revocation evidence offered to the validator of this signature (local answers first)."""
        local = [e for fetcher in contexts.local_ocsp for e in fetcher.evidence]
        configured = [describe_crl(c, "configured") for c in self.trust.crls]
        return tuple(_unique(local + list(self._document_evidence) + configured))


def _unique(items: list[RevocationEvidence]) -> list[RevocationEvidence]:
    seen: set[RevocationEvidence] = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result
