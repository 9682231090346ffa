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
_REASON_ERRORS: tuple[type[BaseException], ...] = (x509.ExtensionNotFound, *PARSE_ERRORS)


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
    try:
        issuer_key = x509.load_der_x509_certificate(issuer.dump()).public_key()
    except PARSE_ERRORS:  # e.g. DSA with inherited parameters: nothing to verify a CRL with
        return None
    usable = [c for c in crls if _usable(c, subject, issuer_key)]
    full = [c for c in usable if not _is_delta(c)]
    deltas = [c for c in usable if _is_delta(c)]
    entry: x509.RevokedCertificate | None = None
    for crl in full:
        entry = entry or _entry(crl, subject.serial_number)
    for crl in deltas:  # RFC 5280 §5.2.4: a delta CRL updates its base (removeFromCRL lifts a hold)
        change = _entry(crl, subject.serial_number)
        if change is not None:
            entry = None if _reason(change) is x509.ReasonFlags.remove_from_crl else change
    if entry is not None and entry.revocation_date_utc <= at:
        return Listing(
            "configured CRL", entry.revocation_date_utc, _reason(entry) is x509.ReasonFlags.certificate_hold, ca
        )
    return None


# RFC 5280 §5.2 / §5.3: a CRL with an unrecognised critical extension (or entry extension) must
# not be used. Scoped CRLs (issuing distribution point) and indirect CRLs are left to the path
# validator, which interprets them.
_KNOWN_CRITICAL = {x509.oid.ExtensionOID.DELTA_CRL_INDICATOR}
_KNOWN_ENTRY_CRITICAL = {x509.oid.CRLEntryExtensionOID.CRL_REASON, x509.oid.CRLEntryExtensionOID.INVALIDITY_DATE}


def _usable(crl: x509.CertificateRevocationList, subject: asn1_x509.Certificate, issuer_key: Any) -> bool:
    try:
        if crl.issuer.public_bytes() != subject.issuer.dump() or not crl.is_signature_valid(issuer_key):
            return False
        if any(e.oid == x509.oid.ExtensionOID.ISSUING_DISTRIBUTION_POINT for e in crl.extensions):
            return False
        if any(e.critical and e.oid not in _KNOWN_CRITICAL for e in crl.extensions):
            return False
        return not any(
            ext.critical and ext.oid not in _KNOWN_ENTRY_CRITICAL for entry in crl for ext in entry.extensions
        )
    except _CRL_ERRORS:
        return False


def _is_delta(crl: x509.CertificateRevocationList) -> bool:
    return any(e.oid == x509.oid.ExtensionOID.DELTA_CRL_INDICATOR for e in crl.extensions)


def _entry(crl: x509.CertificateRevocationList, serial: int) -> x509.RevokedCertificate | None:
    try:
        # cryptography looks up non-negative serials only (RFC 5280 §4.1.2.2 wants positive ones).
        return crl.get_revoked_certificate_by_serial_number(serial)
    except _CRL_ERRORS:
        return None


def _reason(entry: x509.RevokedCertificate) -> x509.ReasonFlags | None:
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except _REASON_ERRORS:
        return None
