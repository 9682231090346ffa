"""Validation policy: trust anchors, revocation requirements, algorithm constraints, and the
pyhanko-certvalidator contexts built from them for one verification."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy, PKIXValidationParams

from ca.hierarchy import authorities
from core.errors import ConfigurationError
from verifier.revocation import LocalOCSPFetcher, LocalRevocationSource, local_fetchers
from verifier.settings import ANY_POLICY, VerifierSettings

# "SHA-1 and RSA < 2048 refused for new signatures" → CRYPTO_CONSTRAINTS_FAILURE.
WEAK_HASHES: frozenset[str] = frozenset({"md2", "md5", "sha1"})
MIN_RSA_BITS = 2048

# EN 319 412-2 §4.3.2: a signing certificate asserts nonRepudiation and/or digitalSignature.
SIGNER_KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False)


# DSA is refused for new signatures by default: no key is long enough.
_DSA_REFUSED = 1 << 20


@dataclass(frozen=True)
class ValidationPolicy:
    """RFC 5280 §6.1.1 initial inputs and the cryptographic constraints of one verifier."""

    initial_policies: frozenset[str] = frozenset({"any_policy"})
    explicit_policy: bool = False
    inhibit_policy_mapping: bool = False
    inhibit_any_policy: bool = False
    weak_hashes: frozenset[str] = WEAK_HASHES
    min_rsa_bits: int = MIN_RSA_BITS
    min_dsa_bits: int = 0

    @classmethod
    def from_settings(cls, settings: VerifierSettings) -> ValidationPolicy:
        return cls(
            initial_policies=frozenset("any_policy" if p == ANY_POLICY else p for p in settings.initial_policies),
            explicit_policy=settings.explicit_policy,
            inhibit_policy_mapping=settings.inhibit_policy_mapping,
            inhibit_any_policy=settings.inhibit_any_policy,
            weak_hashes=frozenset(settings.weak_hash_algorithms),
            min_rsa_bits=settings.min_rsa_bits,
            min_dsa_bits=settings.min_dsa_bits,
        )

    @property
    def default_inputs(self) -> bool:
        """The RFC 5280 defaults (any policy, nothing required or inhibited)."""
        return self.pkix_params() == PKIXValidationParams()

    def pkix_params(self) -> PKIXValidationParams:
        return PKIXValidationParams(
            user_initial_policy_set=self.initial_policies,
            initial_policy_mapping_inhibit=self.inhibit_policy_mapping,
            initial_explicit_policy=self.explicit_policy,
            initial_any_policy_inhibit=self.inhibit_any_policy,
        )

    def algorithms(self) -> DisallowWeakAlgorithmsPolicy:
        return DisallowWeakAlgorithmsPolicy(  # type: ignore[no-untyped-call]
            weak_hash_algos=self.weak_hashes,
            rsa_key_size_threshold=self.min_rsa_bits,
            dsa_key_size_threshold=self.min_dsa_bits or _DSA_REFUSED,
        )


def algorithm_policy() -> DisallowWeakAlgorithmsPolicy:
    return ValidationPolicy().algorithms()


@dataclass(frozen=True)
class TrustStore:
    """Trust anchors and configured revocation data, loaded once per verification (cheap)."""

    roots: tuple[asn1_x509.Certificate, ...]
    # Our own subordinate CAs: offered for path building (signers often include only their own
    # certificate), never trusted by themselves.
    intermediates: tuple[asn1_x509.Certificate, ...]
    tsa_roots: tuple[asn1_x509.Certificate, ...]
    crls: tuple[asn1_crl.CertificateList, ...]
    policy: ValidationPolicy = field(default_factory=ValidationPolicy)


def _read_objects(path: str, key: str) -> list[bytes]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(key, f"cannot read {path}: {exc.strerror}") from None
    if pem.detect(data):
        return [der for _, _, der in pem.unarmor(data, multiple=True)]
    return [data]


class TrustLoader:
    """Reads configured anchor and CRL files once and our roots from the database on each call
    (a new hierarchy, or one created after start-up, is seen without a restart)."""

    def __init__(self, settings: VerifierSettings) -> None:
        self._settings = settings
        try:
            self._extra = tuple(
                asn1_x509.Certificate.load(d)
                for p in settings.extra_trust_anchors
                for d in _read_objects(p, "verifier.extra_trust_anchors")
            )
            self._tsa = tuple(
                asn1_x509.Certificate.load(d)
                for p in settings.tsa_trust_anchors
                for d in _read_objects(p, "verifier.tsa_trust_anchors")
            )
            self._crls = tuple(
                asn1_crl.CertificateList.load(d)
                for p in settings.local_crls
                for d in _read_objects(p, "verifier.local_crls")
            )
            for item in (*self._extra, *self._tsa, *self._crls):
                item.native  # noqa: B018 - force a full parse so bad files fail at start-up
        except ValueError as exc:
            raise ConfigurationError("verifier", f"a trust anchor or CRL file is not valid DER/PEM: {exc}") from None

    def load(self) -> TrustStore:
        own: tuple[asn1_x509.Certificate, ...] = ()
        if self._settings.trust_own_roots:
            own = tuple(asn1_x509.Certificate.load(ca.certificate_der) for ca in authorities("root"))
        intermediates = tuple(asn1_x509.Certificate.load(ca.certificate_der) for ca in authorities("issuing"))
        roots = own + self._extra
        return TrustStore(
            roots=roots,
            intermediates=intermediates,
            tsa_roots=own + self._tsa,
            crls=self._crls,
            policy=ValidationPolicy.from_settings(self._settings),
        )


@dataclass
class VerificationContexts:
    """The certvalidator contexts of one verification and what the local fetchers answered."""

    signer: ValidationContext
    timestamps: ValidationContext
    local_ocsp: list[LocalOCSPFetcher] = field(default_factory=list)


def build_contexts(
    trust: TrustStore,
    *,
    mode: str,
    moment: datetime,
    source: LocalRevocationSource | None,
    other_certs: Iterable[asn1_x509.Certificate] = (),
    document_crls: Iterable[asn1_crl.CertificateList] = (),
    document_ocsps: Iterable[asn1_ocsp.OCSPResponse] = (),
) -> VerificationContexts:
    """Contexts for signer and TSA paths. Nothing here can reach the network: either fetching is
    off (offline) or the only fetchers are the local ones from :mod:`verifier.revocation`."""
    other = list(other_certs) + list(trust.intermediates)
    crls = list(trust.crls) + list(document_crls)
    ocsps = list(document_ocsps)
    # "offline" still requires revocation data, but only what the document and the configured
    # CRLs hold; "soft-fail" tolerates missing data.
    legacy_mode = "soft-fail" if mode == "soft-fail" else "require"
    fetchers_used: list[LocalOCSPFetcher] = []

    def context(roots: tuple[asn1_x509.Certificate, ...]) -> ValidationContext:
        if mode == "offline" or source is None:
            return ValidationContext(
                trust_roots=list(roots),
                other_certs=other,
                moment=moment,
                allow_fetching=False,
                crls=crls,
                ocsps=ocsps,
                revocation_mode=legacy_mode,
                retroactive_revinfo=True,
                algorithm_usage_policy=trust.policy.algorithms(),
                time_tolerance=timedelta(seconds=5),
            )
        fetchers, local = local_fetchers(source, trust.crls, moment)
        if local is not None:
            fetchers_used.append(local)
        return ValidationContext(
            trust_roots=list(roots),
            other_certs=other,
            moment=moment,
            allow_fetching=True,
            fetchers=fetchers,
            crls=list(document_crls),
            ocsps=ocsps,
            revocation_mode=legacy_mode,
            retroactive_revinfo=True,
            algorithm_usage_policy=trust.policy.algorithms(),
            time_tolerance=timedelta(seconds=5),
        )

    signer = context(trust.roots)
    timestamps = context(trust.tsa_roots)
    return VerificationContexts(signer=signer, timestamps=timestamps, local_ocsp=fetchers_used)
