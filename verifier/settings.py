"""Verifier settings (section ``[verifier]``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import ConfigurationError
from verifier.asic.zipread import ZipLimits

REVOCATION_MODES = ("require", "soft-fail", "offline")
ANY_POLICY = "2.5.29.32.0"
HASH_NAMES = ("md2", "md5", "sha1", "sha224", "sha256", "sha384", "sha512")
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


@dataclass(frozen=True)
class VerifierSettings:
    """How documents are validated.

    - ``revocation_mode``: ``require`` (no verdict TOTAL_PASSED without fresh revocation data),
      ``soft-fail`` (missing data is tolerated, a revoked certificate is not) or ``offline``
      (only evidence in the document and ``local_crls``; our own database is not asked).
    - Trust anchors: the roots of our hierarchy (``ca.hierarchy`` authorities of role root) plus
      the PEM/DER files in ``extra_trust_anchors``. Timestamps are checked against
      ``tsa_trust_anchors`` (files) plus our root.
    """

    max_document_bytes: int = 20 * 1024 * 1024
    revocation_mode: str = "require"
    trust_own_roots: bool = True
    extra_trust_anchors: tuple[str, ...] = ()
    tsa_trust_anchors: tuple[str, ...] = ()
    local_crls: tuple[str, ...] = ()
    # Authority whose key signs reports (?signed=true): the ceremony's audit seal by default.
    report_signer: str = "audit"
    # Validity of the OCSP answers the local revocation source builds from our database.
    local_ocsp_validity_seconds: int = 300
    max_signatures: int = 16
    max_parts: int = 16
    # RFC 5280 §6.1.1 initial inputs of path validation (c) user-initial-policy-set,
    # (e) initial-policy-mapping-inhibit, (f) initial-explicit-policy, (g) initial-any-policy-inhibit.
    initial_policies: tuple[str, ...] = (ANY_POLICY,)
    explicit_policy: bool = False
    inhibit_policy_mapping: bool = False
    inhibit_any_policy: bool = False
    # Cryptographic constraints (EN 319 102-1 §5.2.8): refused hashes and minimum key sizes.
    weak_hash_algorithms: tuple[str, ...] = ("md2", "md5", "sha1")
    min_rsa_bits: int = 2048
    # DSA is refused for new signatures unless a minimum size is set (0 = refused).
    min_dsa_bits: int = 0
    # ASiC containers are read in memory within these bounds (verifier.asic.zipread.ZipLimits).
    asic_max_entries: int = 1000
    asic_max_total_bytes: int = 64 * 1024 * 1024
    asic_max_ratio: int = 100
    asic_max_nesting: int = 0

    def __post_init__(self) -> None:
        if not 1024 <= self.max_document_bytes <= 512 * 1024 * 1024:
            raise ConfigurationError("verifier.max_document_bytes", "must be between 1 KiB and 512 MiB")
        if self.revocation_mode not in REVOCATION_MODES:
            raise ConfigurationError("verifier.revocation_mode", f"must be one of {', '.join(REVOCATION_MODES)}")
        if not self.report_signer.strip():
            raise ConfigurationError("verifier.report_signer", "must name an authority")
        if not 10 <= self.local_ocsp_validity_seconds <= 86400:
            raise ConfigurationError("verifier.local_ocsp_validity_seconds", "must be between 10 and 86400")
        if not 1 <= self.max_signatures <= 1000:
            raise ConfigurationError("verifier.max_signatures", "must be between 1 and 1000")
        if not 2 <= self.max_parts <= 1000:
            raise ConfigurationError("verifier.max_parts", "must be between 2 and 1000")
        if not self.initial_policies or any(not _OID.match(p) for p in self.initial_policies):
            raise ConfigurationError("verifier.initial_policies", "needs one or more OIDs (2.5.29.32.0 = anyPolicy)")
        if any(h not in HASH_NAMES for h in self.weak_hash_algorithms):
            raise ConfigurationError("verifier.weak_hash_algorithms", f"choose among {', '.join(HASH_NAMES)}")
        if not 1024 <= self.min_rsa_bits <= 16384:
            raise ConfigurationError("verifier.min_rsa_bits", "must be between 1024 and 16384")
        if self.min_dsa_bits and not 1024 <= self.min_dsa_bits <= 16384:
            raise ConfigurationError("verifier.min_dsa_bits", "must be 0 (DSA refused) or between 1024 and 16384")
        self.zip_limits()  # validates the asic_* keys
        for key in ("extra_trust_anchors", "tsa_trust_anchors", "local_crls"):
            if any(not p.strip() for p in getattr(self, key)):
                raise ConfigurationError(f"verifier.{key}", "file names must not be empty")

    def zip_limits(self) -> ZipLimits:
        return ZipLimits(
            max_entries=self.asic_max_entries,
            max_total_bytes=self.asic_max_total_bytes,
            max_ratio=self.asic_max_ratio,
            max_nesting=self.asic_max_nesting,
        )
