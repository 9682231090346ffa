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
from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy

from ca.hierarchy import authorities
from core.errors import ConfigurationError
from verifier.revocation import LocalOCSPFetcher, LocalRevocationSource, local_fetchers
from verifier.settings import VerifierSettings

# "SHA-1 and RSA < 2048 refused for new signatures" → CRYPTO_CONSTRAINTS_FAILURE.
WEAK_HASHES = frozenset({"md2", "md5", "sha1"})
MIN_RSA_BITS = 2048

# EN 319 412-2 §4.3.2: a signing certificate asserts nonRepudiation and/or digitalSignature.
SIGNER_KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False)


def algorithm_policy() -> DisallowWeakAlgorithmsPolicy:
    return DisallowWeakAlgorithmsPolicy(  # type: ignore[no-untyped-call]
        weak_hash_algos=WEAK_HASHES, rsa_key_size_threshold=MIN_RSA_BITS
    )


@dataclass(frozen=True)
class TrustStore:
    """Trust anchors and configured revocation data, loaded once per verification (cheap)."""

    roots: tuple[asn1_x509.Certificate, ...]
    # Our own subordinate CAs: offered for path building (signers often include only their own
    # certificate), never trusted by themselves.
    intermediates: tuple[asn1_x509.Certificate, ...]
    tsa_roots: tuple[asn1_x509.Certificate, ...]
    crls: tuple[asn1_crl.CertificateList, ...]


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
        return TrustStore(roots=roots, intermediates=intermediates, tsa_roots=own + self._tsa, crls=self._crls)


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
                algorithm_usage_policy=algorithm_policy(),
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
            algorithm_usage_policy=algorithm_policy(),
            time_tolerance=timedelta(seconds=5),
        )

    signer = context(trust.roots)
    timestamps = context(trust.tsa_roots)
    return VerificationContexts(signer=signer, timestamps=timestamps, local_ocsp=fetchers_used)
