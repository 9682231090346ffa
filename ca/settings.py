"""CA settings (section ``[ca]``): the hierarchy the ceremony creates and the public URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.errors import ConfigurationError
from hsm.base import ALGORITHMS

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


def check_oid(key: str, value: str) -> None:
    if not _OID.match(value):
        raise ConfigurationError(key, f"{value!r} is not a dotted OID")


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


@dataclass(frozen=True)
class CASettings:
    public_base_url: str = "http://127.0.0.1:8080"
    policy_oid: str = "2.999.1.1.1"
    cps_uri: str = "http://127.0.0.1:8080/docs/cps"
    root: AuthoritySettings = field(
        default_factory=lambda: AuthoritySettings("root", "SEKAP Trust Root CA", "ec-p384", 7300)
    )
    issuing: AuthoritySettings = field(
        default_factory=lambda: AuthoritySettings("citizens", "SEKAP Trust Citizen CA", "ec-p256", 3650)
    )
    tsa: AuthoritySettings = field(default_factory=lambda: AuthoritySettings("tsa", "SEKAP Trust TSA", "ec-p256", 1825))
    ocsp_signer: OCSPSignerSettings = field(default_factory=OCSPSignerSettings)
    audit_key_algorithm: str = "ec-p256"

    def __post_init__(self) -> None:
        if not self.public_base_url.startswith(("http://", "https://")) or self.public_base_url.endswith("/"):
            raise ConfigurationError("ca.public_base_url", "must be an http(s) URL without a trailing slash")
        check_oid("ca.policy_oid", self.policy_oid)
        names = [self.root.name, self.issuing.name, self.tsa.name]
        if len(set(names)) != len(names):
            raise ConfigurationError("ca", f"root, issuing and tsa names must differ: {names}")
        if self.issuing.validity_days > self.root.validity_days:
            raise ConfigurationError("ca.issuing.validity_days", "must not exceed the root's validity")
        if self.audit_key_algorithm not in ALGORITHMS:
            raise ConfigurationError("ca.audit_key_algorithm", f"choose one of {', '.join(ALGORITHMS)}")

    def cert_url(self, name: str) -> str:
        return f"{self.public_base_url}/certs/{name}.crt"

    def crl_url(self, name: str) -> str:
        return f"{self.public_base_url}/crl/{name}.crl"

    def delta_crl_url(self, name: str) -> str:
        return f"{self.public_base_url}/crl/{name}-delta.crl"

    @property
    def ocsp_url(self) -> str:
        return f"{self.public_base_url}/ocsp"
