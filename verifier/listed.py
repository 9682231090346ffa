"""Revocation sources consulted for every certificate of a validated path, whatever it declares.

pyhanko-certvalidator checks revocation only through the pointers a certificate carries (CRL
distribution points, OCSP in AIA) in its "soft-fail" mode, so a certificate without them was
never checked, even against a configured CRL that lists it. Here every non-anchor certificate of
the path is looked up in:

- the CRLs configured in ``verifier.local_crls`` (signature checked against the issuer in the path);
- for certificates issued by one of our CAs, the CA's revocation registry (:mod:`ca.status`), the
  source its published CRLs and OCSP answers are made from.

A listing found here decides, in every revocation mode: soft-fail never accepts a certificate that
a consulted source lists (EN 319 102-1 §5.2.6: revoked → REVOKED_NO_POE / REVOKED_CA_NO_POE, on
hold → TRY_LATER).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from ca.hierarchy import ca_by_key_hash
from ca.status import status_by_issuer_name
from core.clock import ensure_utc
from verifier.common import PARSE_ERRORS, SUSPENDED
from verifier.report import Indication, SubIndication, Verdict

_CRL_ERRORS: tuple[type[BaseException], ...] = (InvalidSignature, TypeError, *PARSE_ERRORS)


@dataclass(frozen=True)
class Listing:
    """A consulted source lists a certificate of the path as revoked (or on hold)."""

    source: str  # "configured CRL" | "CA registry"
    revoked_at: datetime
    on_hold: bool
    ca: bool  # the listed certificate is a CA of the path, not the signer's


def find_listing(path: Any, crls: Iterable[asn1_crl.CertificateList], at: datetime) -> Listing | None:
    """The first listing (signer first, then up the chain) in effect at ``at``, or None."""
    certs = [c for c in path.iter_certs(include_root=True) if isinstance(c, asn1_x509.Certificate)]
    pairs = list(itertools.pairwise(certs))  # (issuer, subject), root → signer
    loaded = [_load(c) for c in crls]
    for position, (issuer, subject) in enumerate(reversed(pairs)):
        listing = _listed(subject, issuer, [c for c in loaded if c is not None], at, ca=position > 0)
        if listing is not None:
            return listing
    return None


def listing_verdict(listing: Listing) -> Verdict:
    if listing.ca:
        return Verdict(
            Indication.INDETERMINATE,
            SubIndication.REVOKED_CA_NO_POE,
            f"a CA certificate of the chain is revoked ({listing.source})",
        )
    if listing.on_hold:
        return SUSPENDED
    return Verdict(
        Indication.INDETERMINATE,
        SubIndication.REVOKED_NO_POE,
        f"the signing certificate is revoked ({listing.source}); nothing proves the signature existed before",
    )


def _load(item: asn1_crl.CertificateList) -> x509.CertificateRevocationList | None:
    try:
        return x509.load_der_x509_crl(item.dump())
    except PARSE_ERRORS:
        return None


def _listed(
    subject: asn1_x509.Certificate,
    issuer: asn1_x509.Certificate,
    crls: list[x509.CertificateRevocationList],
    at: datetime,
    *,
    ca: bool,
) -> Listing | None:
    own = ca_by_key_hash(issuer.public_key.sha1.hex())
    if own is not None:
        status = status_by_issuer_name(own.name, subject.serial_number)
        if status.kind == "revoked" and status.revoked_at is not None and ensure_utc(status.revoked_at) <= at:
            on_hold = status.reason is x509.ReasonFlags.certificate_hold
            return Listing("CA registry", ensure_utc(status.revoked_at), on_hold, ca)
    issuer_crypto = x509.load_der_x509_certificate(issuer.dump())
    for crl in crls:
        if crl.issuer.public_bytes() != subject.issuer.dump():
            continue
        try:
            if not crl.is_signature_valid(issuer_crypto.public_key()):  # type: ignore[arg-type]
                continue
        except _CRL_ERRORS:
            continue
        entry = crl.get_revoked_certificate_by_serial_number(subject.serial_number)
        if entry is not None and entry.revocation_date_utc <= at:
            return Listing("configured CRL", entry.revocation_date_utc, _on_hold(entry), ca)
    return None


def _on_hold(entry: x509.RevokedCertificate) -> bool:
    try:
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return False
    return reason is x509.ReasonFlags.certificate_hold
