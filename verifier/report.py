"""The validation report: frozen dataclasses with ETSI EN 319 102-1 indications.

The report goes back to the portal and may name the signer (including the semantics identifier,
e.g. ``PNOPL-…``, EN 319 412-1 §5.1.3): it is a response body, never a log line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from verifier.asic.model import PackageInfo
    from verifier.receipt_fields import ReceiptInfo


class Indication(enum.StrEnum):
    """EN 319 102-1 §5.1.3 main status indications."""

    TOTAL_PASSED = "TOTAL_PASSED"
    INDETERMINATE = "INDETERMINATE"
    TOTAL_FAILED = "TOTAL_FAILED"


class SubIndication(enum.StrEnum):
    """EN 319 102-1 §5.1.3 Table 5 sub-indications."""

    # TOTAL_FAILED
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    # INDETERMINATE
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    POLICY_PROCESSING_ERROR = "POLICY_PROCESSING_ERROR"
    SIGNATURE_POLICY_NOT_AVAILABLE = "SIGNATURE_POLICY_NOT_AVAILABLE"
    TIMESTAMP_ORDER_FAILURE = "TIMESTAMP_ORDER_FAILURE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    REVOCATION_OUT_OF_BOUNDS_NO_POE = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    NO_POE = "NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    GENERIC = "GENERIC"


_RANK = {Indication.TOTAL_PASSED: 0, Indication.INDETERMINATE: 1, Indication.TOTAL_FAILED: 2}

# CMS and XML-DSig: signatures without the AdES attributes (no signing-certificate, no
# QualifyingProperties); they meet no baseline level ("none").
FORMATS = ("CAdES", "XAdES", "PAdES", "CMS", "XML-DSig")
LEVELS = ("none", "B-B", "B-T", "B-LT", "B-LTA")


@dataclass(frozen=True)
class LevelCheck:
    """Whether a signature meets the requirements of one baseline level (EN 319 122-1 / 132-1 /
    142-1 §6.3), and which are missing."""

    level: str
    met: bool
    missing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.level not in LEVELS[1:]:
            raise ValueError(f"unknown baseline level {self.level!r}")


@dataclass(frozen=True)
class Verdict:
    indication: Indication
    sub_indication: SubIndication | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if (self.indication is Indication.TOTAL_PASSED) != (self.sub_indication is None):
            raise ValueError("TOTAL_PASSED has no sub-indication; the other indications need one")


PASSED = Verdict(Indication.TOTAL_PASSED)


def worst(verdicts: list[Verdict]) -> Verdict:
    """The verdict that weighs most (TOTAL_FAILED > INDETERMINATE > TOTAL_PASSED); first wins ties."""
    result = PASSED
    for verdict in verdicts:
        if _RANK[verdict.indication] > _RANK[result.indication]:
            result = verdict
    return result


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    serial: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class SignerIdentity:
    name: str | None
    semantics_identifier: str | None
    subject: str
    issuer: str
    serial: str
    fingerprint_sha256: str


@dataclass(frozen=True)
class TimestampInfo:
    """A timestamp the signature carries (signature, content, archive or document timestamp)."""

    kind: str
    time: datetime | None
    indication: Indication
    sub_indication: SubIndication | None = None
    tsa: str | None = None
    token_sha256: str | None = None  # of the DER token (archive timestamps; the XML report's object id)


@dataclass(frozen=True)
class RevocationEvidence:
    """Revocation data: ``source`` is ``local`` (our database), ``document`` or ``configured``."""

    kind: str  # "OCSP" | "CRL"
    source: str
    issuer: str
    certificate_serial: str | None = None
    status: str | None = None
    produced_at: datetime | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None


@dataclass(frozen=True)
class ReferenceInfo:
    """An XML-DSig reference as the verifier resolved it (never the raw element: only what was signed)."""

    uri: str
    type: str | None
    target: str
    digest_algorithm: str


@dataclass(frozen=True)
class Coverage:
    """What the signature covers.

    ``kind``: ``pdf-byte-range``, ``xml-references``, ``cms-attached`` or ``cms-detached``.
    For PDF, ``level`` is pyHanko's coverage (ENTIRE_FILE, ENTIRE_REVISION, ...) and
    ``modification_level`` the diff analysis of later revisions.
    """

    kind: str
    byte_ranges: tuple[tuple[int, int], ...] = ()
    level: str | None = None
    modification_level: str | None = None
    references: tuple[ReferenceInfo, ...] = ()
    detached_parts: tuple[str, ...] = ()
    content_sha256: str | None = None


@dataclass(frozen=True)
class CounterSignatureReport:
    """A counter-signature (RFC 5652 §11.4 countersignature attribute, EN 319 122-1 §5.2.7;
    EN 319 132-1 §5.2.7.2 xades:CounterSignature): a signature over the signature value of
    ``counters`` (the id of the main signature, or of another counter-signature when nested).
    Its indication is its own: it never changes the indication of the signature it counters."""

    id: str
    counters: str
    format: str
    indication: Indication
    sub_indication: SubIndication | None
    signer: SignerIdentity | None
    claimed_signing_time: datetime | None
    certificate_chain: tuple[CertificateInfo, ...]
    revocation: tuple[RevocationEvidence, ...] = ()
    signature_algorithm: str | None = None
    digest_algorithm: str | None = None
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}")
        Verdict(self.indication, self.sub_indication)


@dataclass(frozen=True)
class SignatureReport:
    id: str
    format: str
    level: str
    indication: Indication
    sub_indication: SubIndication | None
    signer: SignerIdentity | None
    claimed_signing_time: datetime | None
    timestamps: tuple[TimestampInfo, ...]
    certificate_chain: tuple[CertificateInfo, ...]
    revocation: tuple[RevocationEvidence, ...]
    coverage: Coverage
    signature_algorithm: str | None = None
    digest_algorithm: str | None = None
    warnings: tuple[str, ...] = ()
    # Per baseline level: met or not, and what is missing (empty when not assessed).
    baseline: tuple[LevelCheck, ...] = ()
    # Every counter-signature, nested ones included (each names what it counters).
    counter_signatures: tuple[CounterSignatureReport, ...] = ()

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}")
        if self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r}")
        Verdict(self.indication, self.sub_indication)


def with_counter_signatures(report: SignatureReport, counters: tuple[CounterSignatureReport, ...]) -> SignatureReport:
    """``report`` with its counter-signatures and, for each one that did not pass, a warning that
    says so (the signature's own indication stays what it is)."""
    if not counters:
        return report
    notes = tuple(
        f"counter-signature {c.id} is {c.indication.value}"
        + (f"/{c.sub_indication.value}" if c.sub_indication else "")
        + " (the indication of the signature it counters is not affected)"
        for c in counters
        if c.indication is not Indication.TOTAL_PASSED
    )
    return replace(report, counter_signatures=counters, warnings=(*report.warnings, *notes))


def renamed(report: SignatureReport, new_id: str) -> SignatureReport:
    """``report`` under ``new_id``, its counter-signatures' ids and references following it."""

    def move(value: str) -> str:
        return new_id + value[len(report.id) :] if value.startswith(report.id) else value

    counters = tuple(replace(c, id=move(c.id), counters=move(c.counters)) for c in report.counter_signatures)
    warnings = tuple(
        w.replace(f"counter-signature {report.id}", f"counter-signature {new_id}") for w in report.warnings
    )
    return replace(report, id=new_id, counter_signatures=counters, warnings=warnings)


@dataclass(frozen=True)
class DocumentInfo:
    media_type: str
    size: int
    sha256: str
    detached_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidationReport:
    indication: Indication
    sub_indication: SubIndication | None
    validation_time: datetime
    revocation_mode: str
    document: DocumentInfo
    signatures: tuple[SignatureReport, ...]
    warnings: tuple[str, ...] = ()
    policy: str = "sekap-trust-verifier/1"
    # ASiC containers: per file and per signature file (verifier.asic); null for other documents.
    package: PackageInfo | None = None
    # UPO/UPD receipts (CRD pos:Dokument): the fields the receipt states; null for other documents.
    receipt: ReceiptInfo | None = None
    # Verifier's own timing, not part of the judgement.
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form documented in :mod:`verifier.openapi`."""
        result = _plain(self)
        assert isinstance(result, dict)
        result.pop("extra", None)
        return result


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
