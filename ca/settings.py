"""CA settings (section ``[ca]``): the hierarchy the ceremony creates and the public URLs."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from ca.profiles import ProfileSettings, check_oid, default_profiles
from core.errors import ConfigurationError
from hsm.base import ALGORITHMS

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class AuthoritySettings:
    """A CA or signer the ceremony creates. ``name`` appears in URLs (/certs/<name>.crt)."""

    name: str
    common_name: str
    algorithm: str = "ec-p256"
    validity_days: int = 3650
    organization: str = "SEKAP Trust"
    country: str = "PL"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigurationError("name", f"{self.name!r}: use lower-case letters, digits and '-' (max 40)")
        if self.algorithm not in ALGORITHMS:
            raise ConfigurationError("algorithm", f"{self.algorithm!r}: choose one of {', '.join(ALGORITHMS)}")
        if not 1 <= self.validity_days <= 36500:
            raise ConfigurationError("validity_days", "must be between 1 and 36500")
        if len(self.country) != 2 or not self.country.isupper():
            raise ConfigurationError("country", "must be a two-letter upper-case ISO 3166 code")
        if not self.common_name.strip():
            raise ConfigurationError("common_name", "must not be empty")


@dataclass(frozen=True)
class OCSPSignerSettings:
    """Delegated OCSP responder certificates (one per CA), renewed automatically."""

    algorithm: str = "ec-p256"
    validity_days: int = 30
    renew_before_days: int = 10

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ConfigurationError("ca.ocsp_signer.algorithm", f"choose one of {', '.join(ALGORITHMS)}")
        if not 2 <= self.validity_days <= 366:
            raise ConfigurationError("ca.ocsp_signer.validity_days", "must be between 2 and 366")
        if not 1 <= self.renew_before_days < self.validity_days:
            raise ConfigurationError("ca.ocsp_signer.renew_before_days", "must be at least 1 and below validity_days")


# How often the CRL publishing job runs: config/jobs.py schedules it with this, ca.crl counts on
# it, and a status change can wait up to one run, so publish_within_seconds is never shorter.
CRL_JOB_INTERVAL_SECONDS = 15


@dataclass(frozen=True)
class CRLSettings:
    """CRL publication (RFC 5280 §5; CA/B BR §4.9.7)."""

    # nextUpdate - thisUpdate; BR §4.9.7: never more than 10 days.
    next_update_hours: int = 24
    # A status change reaches a new CRL within this many seconds (the job coalesces bursts).
    publish_within_seconds: int = 60
    # Delta CRLs (RFC 5280 §5.2.4) next to the full CRLs.
    delta: bool = True
    # Regenerate the full CRL on every change too (false: only deltas follow changes; the full
    # CRL is renewed before half its validity).
    full_on_change: bool = True
    # Changes committed up to this long after a CRL's snapshot still count as unpublished.
    change_margin_seconds: int = 30

    def __post_init__(self) -> None:
        if not 1 <= self.next_update_hours <= 240:
            raise ConfigurationError("ca.crl.next_update_hours", "must be between 1 and 240 (10 days, BR §4.9.7)")
        if not CRL_JOB_INTERVAL_SECONDS <= self.publish_within_seconds <= 86400:
            raise ConfigurationError(
                "ca.crl.publish_within_seconds", f"must be between {CRL_JOB_INTERVAL_SECONDS} and 86400"
            )
        if not 1 <= self.change_margin_seconds <= 3600:
            raise ConfigurationError("ca.crl.change_margin_seconds", "must be between 1 and 3600")


@dataclass(frozen=True)
class CASettings:
    public_base_url: str = "http://127.0.0.1:8080"
    # RFC 7229 id-TEST-certPolicyOne: a test policy OID for the demo; set your own. (pkilint's
    # decoder rejects the 2.999 example arc and arcs above 32 bits, so those make lint fail.)
    policy_oid: str = "1.3.6.1.5.5.7.13.1"
    # Empty: the CPS served by this CA at ``{public_base_url}/policy/cps`` (see :attr:`cps_url`).
    cps_uri: str = ""
    root: AuthoritySettings = field(
        default_factory=lambda: AuthoritySettings("root", "SEKAP Trust Root CA", "ec-p384", 7300)
    )
    issuing: AuthoritySettings = field(
        default_factory=lambda: AuthoritySettings("citizens", "SEKAP Trust Citizen CA", "ec-p256", 3650)
    )
    tsa: AuthoritySettings = field(default_factory=lambda: AuthoritySettings("tsa", "SEKAP Trust TSA", "ec-p256", 1825))
    ocsp_signer: OCSPSignerSettings = field(default_factory=OCSPSignerSettings)
    audit_key_algorithm: str = "ec-p256"
    # The receipt service's seal (UPO/UPD), profile "organisation-seal"; its subject carries
    # organizationIdentifier (EN 319 412-1 §5.1.4, e.g. "VATPL-5260300517") when set.
    receipt_seal: AuthoritySettings = field(
        default_factory=lambda: AuthoritySettings("receipt-seal", "SEKAP Trust Receipt Seal", "ec-p256", 1825)
    )
    receipt_seal_organization_identifier: str = ""
    profiles: Mapping[str, ProfileSettings] = field(default_factory=default_profiles)
    default_profile: str = "citizen"
    # Suspension (certificateHold) turns into revocation after this many days.
    max_hold_days: int = 7
    # What an expired hold becomes (RFC 5280 §5.3.1 reason name).
    hold_expiry_reason: str = "unspecified"
    crl: CRLSettings = field(default_factory=CRLSettings)
    # pkilint finding codes that do not block issuance (use sparingly; every other ERROR does).
    lint_allow: tuple[str, ...] = ()
    # More compromised-key lists (SHA-256 of the DER SubjectPublicKeyInfo, one per line) besides
    # the one shipped in ca/data/compromised-keys.txt.
    key_blocklist_files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.public_base_url.startswith(("http://", "https://")) or self.public_base_url.endswith("/"):
            raise ConfigurationError("ca.public_base_url", "must be an http(s) URL without a trailing slash")
        check_oid("ca.policy_oid", self.policy_oid)
        if self.cps_uri and not self.cps_uri.startswith(("http://", "https://")):
            raise ConfigurationError("ca.cps_uri", "must be an http(s) URL (or empty for the CPS served here)")
        names = [self.root.name, self.issuing.name, self.tsa.name, self.receipt_seal.name]
        if len(set(names)) != len(names):
            raise ConfigurationError("ca", f"root, issuing, tsa and receipt_seal names must differ: {names}")
        if self.issuing.validity_days > self.root.validity_days:
            raise ConfigurationError("ca.issuing.validity_days", "must not exceed the root's validity")
        if self.audit_key_algorithm not in ALGORITHMS:
            raise ConfigurationError("ca.audit_key_algorithm", f"choose one of {', '.join(ALGORITHMS)}")
        # The ceremony builds root, issuing CA and signers from these.
        for name in (self.default_profile, "ocsp-signer", "root-ca", "issuing-ca", "tsa", "seal", "organisation-seal"):
            if name not in self.profiles:
                raise ConfigurationError(f"ca.profiles.{name}", "this profile is required")
        for name in self.profiles:
            if not _NAME.match(name):
                raise ConfigurationError(f"ca.profiles.{name}", "use lower-case letters, digits and '-' (max 40)")
        if self.profiles["ocsp-signer"].template != "ocsp-signer":
            raise ConfigurationError("ca.profiles.ocsp-signer.template", "must be ocsp-signer")
        if not 1 <= self.max_hold_days <= 365:
            raise ConfigurationError("ca.max_hold_days", "must be between 1 and 365")
        if self.hold_expiry_reason not in (
            "unspecified",
            "keyCompromise",
            "affiliationChanged",
            "superseded",
            "cessationOfOperation",
            "privilegeWithdrawn",
        ):
            raise ConfigurationError("ca.hold_expiry_reason", "must be an RFC 5280 revocation reason of an end entity")

    @property
    def lint_allowed(self) -> frozenset[str]:
        """``lint_allow`` plus, for a loopback ``public_base_url`` (the local demo), the ETSI
        internal-domain-name finding: such URLs are never reachable by third parties anyway."""
        host = urlparse(self.public_base_url).hostname or ""
        local = host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)
        return frozenset(self.lint_allow) | ({"etsi.internal_domain_name"} if local else frozenset())

    def profile(self, name: str | None) -> ProfileSettings:
        """The named profile (default: ``default_profile``); KeyError when unknown."""
        return self.profiles[name or self.default_profile]

    def cert_url(self, name: str) -> str:
        return f"{self.public_base_url}/certs/{name}.crt"

    def crl_url(self, name: str) -> str:
        return f"{self.public_base_url}/crl/{name}.crl"

    def delta_crl_url(self, name: str) -> str:
        return f"{self.public_base_url}/crl/{name}-delta.crl"

    @property
    def ocsp_url(self) -> str:
        return f"{self.public_base_url}/ocsp"

    @property
    def cps_url(self) -> str:
        """The CPS pointer of the policy qualifier (RFC 5280 §4.2.1.4): ``cps_uri`` when set, else
        the CPS this CA serves itself under its public URL."""
        return self.cps_uri or f"{self.public_base_url}/policy/cps"

    @property
    def pds_url(self) -> str:
        """The PKI disclosure statement (EN 319 411-1 §6.1, Annex A of EN 319 412-5) served by this CA."""
        return f"{self.public_base_url}/policy/pds"
