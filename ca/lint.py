"""Pre-signing lint with pkilint (CA/B BR §4.3.1.2: lint the to-be-signed certificate, refuse on
error): RFC 5280 lints for every certificate, plus the ETSI EN 319 412-2 natural-person lints for
citizen certificates; RFC 5280 §5 lints for CRLs."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from pkilint import etsi, finding_filter, loader, pkix
from pkilint.etsi import etsi_constants
from pkilint.pkix import certificate, crl, extension, name
from pkilint.validation import ValidationFindingSeverity

_BLOCKING = (ValidationFindingSeverity.FATAL, ValidationFindingSeverity.ERROR)
_lock = threading.Lock()
NATURAL_PERSON = etsi_constants.CertificateType.NCP_NATURAL_PERSON_CERTIFICATE


@cache
def _pkix_certificate_validator() -> Any:
    return certificate.create_pkix_certificate_validator_container(
        certificate.create_decoding_validators(name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS),
        [
            certificate.create_issuer_validator_container([]),
            certificate.create_validity_validator_container(),
            certificate.create_subject_validator_container([]),
            certificate.create_extensions_validator_container([]),
            certificate.create_spki_validator_container([]),
        ],
    )


@cache
def _etsi_validator() -> Any:
    return certificate.create_pkix_certificate_validator_container(
        etsi.create_decoding_validators(NATURAL_PERSON), etsi.create_validators(NATURAL_PERSON)
    )


@cache
def _crl_validator(is_arl: bool) -> Any:
    return crl.create_pkix_crl_validator_container(
        [
            pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [
            crl.create_issuer_validator_container([]),
            crl.create_validity_validator_container([]),
            crl.create_extensions_validator_container([]),
        ],
    )


def _findings(results: Any, minimum: tuple[ValidationFindingSeverity, ...], allow: frozenset[str]) -> list[str]:
    found = []
    for result in results:
        for description in result.finding_descriptions:
            if description.finding.severity in minimum and description.finding.code not in allow:
                text = f"{description.finding.severity}: {description.finding.code}"
                if description.message:
                    text += f" ({description.message})"
                found.append(f"{text} at {result.node.path}")
    return found


def lint_certificate(
    der: bytes,
    kind: str = "pkix",
    *,
    minimum: tuple[ValidationFindingSeverity, ...] = _BLOCKING,
    allow: frozenset[str] = frozenset(),
) -> list[str]:
    """Findings at ``minimum`` severities (default FATAL and ERROR) for a DER certificate.

    ``kind`` is a profile's ``lint``: ``pkix`` (RFC 5280) or ``etsi-natural-person`` (RFC 5280 +
    EN 319 412-2, which pkilint runs together)."""
    # pkilint's validators keep per-run state; serialise their use across threads.
    with _lock:
        doc = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "certificate")
        if kind == "etsi-natural-person":
            results = _etsi_validator().validate(doc.root)
            results, _ = finding_filter.filter_results(etsi.create_etsi_finding_filters(NATURAL_PERSON), results)
        else:
            results = _pkix_certificate_validator().validate(doc.root)
    return _findings(results, minimum, allow)


def lint_crl(der: bytes, *, minimum: tuple[ValidationFindingSeverity, ...] = _BLOCKING) -> list[str]:
    """RFC 5280 §5 findings for a DER CRL."""
    with _lock:
        doc = loader.RFC5280CertificateListDocumentLoader().load_der_document(der, "crl")
        results = _crl_validator(False).validate(doc.root)
    return _findings(results, minimum, frozenset())
