"""Certificate profiles (``[ca.profiles.<name>]``): what a certificate of each kind contains.

A profile is a frozen dataclass validated at start-up; :func:`build_extensions` turns it into the
X.509 extensions of one certificate. The natural-person template follows ETSI EN 319 412-2 for a
non-qualified certificate (no QC statements); the signer templates follow RFC 6960 §4.2.2.2
(OCSP) and RFC 3161 §2.3 (TSA).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import AuthorityInformationAccessOID, CertificatePoliciesOID, ExtendedKeyUsageOID

from core.errors import ConfigurationError

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


def check_oid(key: str, value: str) -> None:
    """A dotted OID (X.660: arcs without leading zeros, the first 0, 1 or 2)."""
    if not _OID.match(value):
        raise ConfigurationError(key, f"{value!r} is not a dotted OID")


TEMPLATES = ("natural-person", "ocsp-signer", "tsa", "seal", "root-ca", "sub-ca")
LINTS = ("pkix", "etsi-natural-person")
KEY_USAGES = (
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
)
EXTENDED_KEY_USAGES: Mapping[str, x509.ObjectIdentifier] = MappingProxyType(
    {
        "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
        "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
        "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
        "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
        "ocspSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
        # ETSI EN 319 412-2 does not require an EKU; documentSigning (RFC 9336) for PDF signers.
        "documentSigning": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
    }
)
ETSI_LCP = "0.4.0.2042.1.3"


@dataclass(frozen=True)
class ProfileSettings:
    """One certificate profile. ``template`` decides the subject shape and the fixed parts;
    the other fields tune extensions within what the template allows."""

    template: str
    validity_days: int
    key_usage: tuple[str, ...]
    key_usage_critical: bool = True
    extended_key_usage: tuple[str, ...] = ()
    extended_key_usage_critical: bool = False
    certificate_policies: bool = True
    # Extra policy OID, e.g. ETSI LCP 0.4.0.2042.1.3 (EN 319 411-1); empty for none.
    etsi_policy: str = ""
    # CA templates only: assert anyPolicy (RFC 5280 §4.2.1.4) instead of the CA's own policies,
    # so that the CA may also issue under policies it does not list.
    any_policy: bool = False
    authority_info_access: bool = True
    crl_distribution_point: bool = True
    ocsp_no_check: bool = False
    allow_ed25519: bool = False
    allow_email: bool = False
    lint: str = "pkix"

    def __post_init__(self) -> None:
        if self.template not in TEMPLATES:
            raise ConfigurationError("template", f"{self.template!r}: choose one of {', '.join(TEMPLATES)}")
        if not 1 <= self.validity_days <= 36500:
            raise ConfigurationError("validity_days", "must be between 1 and 36500")
        unknown = [u for u in self.key_usage if u not in KEY_USAGES]
        if unknown or not self.key_usage:
            raise ConfigurationError("key_usage", f"needs at least one of {', '.join(KEY_USAGES)}; unknown {unknown}")
        bad_eku = [u for u in self.extended_key_usage if u not in EXTENDED_KEY_USAGES]
        if bad_eku:
            raise ConfigurationError("extended_key_usage", f"unknown {bad_eku}; known {', '.join(EXTENDED_KEY_USAGES)}")
        if self.lint not in LINTS:
            raise ConfigurationError("lint", f"choose one of {', '.join(LINTS)}")
        if self.etsi_policy:
            check_oid("etsi_policy", self.etsi_policy)
        is_ca = self.template in ("root-ca", "sub-ca")
        if is_ca != ("keyCertSign" in self.key_usage):
            raise ConfigurationError("key_usage", "keyCertSign belongs to CA templates only, and CA templates need it")
        if self.template == "ocsp-signer" and self.extended_key_usage != ("ocspSigning",):
            # RFC 6960 §4.2.2.2: a delegated responder carries id-kp-OCSPSigning.
            raise ConfigurationError("extended_key_usage", "the ocsp-signer template needs exactly ocspSigning")
        if self.template == "tsa" and (
            self.extended_key_usage != ("timeStamping",) or not self.extended_key_usage_critical
        ):
            # RFC 3161 §2.3: the only EKU is id-kp-timeStamping and it is critical.
            raise ConfigurationError("extended_key_usage", "the tsa template needs exactly timeStamping, critical")
        if self.any_policy and (not is_ca or not self.certificate_policies):
            raise ConfigurationError("any_policy", "only CA templates with certificate_policies assert anyPolicy")
        if self.allow_email and self.template != "natural-person":
            raise ConfigurationError("allow_email", "only natural-person profiles carry an e-mail address")

    @property
    def is_ca(self) -> bool:
        return self.template in ("root-ca", "sub-ca")


def _profile(template: str, validity_days: int, key_usage: tuple[str, ...], **kwargs: object) -> ProfileSettings:
    return ProfileSettings(template, validity_days, key_usage, **kwargs)  # type: ignore[arg-type]


def default_profiles() -> Mapping[str, ProfileSettings]:
    """The built-in profiles; config/default.toml repeats them so operators see and tune them."""
    return MappingProxyType(
        {
            # EN 319 412-2 natural person, non-qualified: nonRepudiation + digitalSignature, critical.
            "citizen": _profile(
                "natural-person",
                730,
                ("digitalSignature", "nonRepudiation"),
                etsi_policy=ETSI_LCP,
                allow_email=True,
                lint="etsi-natural-person",
            ),
            # Staff certificates (registration officers): also usable for TLS client authentication.
            "officer": _profile(
                "natural-person",
                730,
                ("digitalSignature", "nonRepudiation"),
                extended_key_usage=("clientAuth",),
                allow_email=True,
                lint="etsi-natural-person",
            ),
            "ocsp-signer": _profile(
                "ocsp-signer",
                30,
                ("digitalSignature",),
                extended_key_usage=("ocspSigning",),
                certificate_policies=False,
                authority_info_access=False,
                crl_distribution_point=False,
                ocsp_no_check=True,
            ),
            "tsa": _profile(
                "tsa",
                1825,
                ("digitalSignature", "nonRepudiation"),
                extended_key_usage=("timeStamping",),
                extended_key_usage_critical=True,
                certificate_policies=False,
            ),
            "seal": _profile("seal", 3650, ("digitalSignature", "nonRepudiation"), certificate_policies=False),
            # EN 319 412-3 legal-person seal of the receipt service (UPO/UPD): under the CA's
            # policy, checkable through OCSP/CRL like any end entity.
            "organisation-seal": _profile("seal", 1825, ("digitalSignature", "nonRepudiation")),
            "root-ca": _profile(
                "root-ca",
                7300,
                ("keyCertSign", "cRLSign"),
                certificate_policies=False,
                authority_info_access=False,
                crl_distribution_point=False,
            ),
            # The issuing CA asserts the policies its citizen certificates carry (the CA's own OID
            # and ETSI LCP), so that relying parties requiring them (RFC 5280 §6.1 with an explicit
            # policy) accept the chain; the root is the trust anchor and asserts none.
            "issuing-ca": _profile("sub-ca", 3650, ("keyCertSign", "cRLSign"), etsi_policy=ETSI_LCP),
        }
    )


def key_usage(profile: ProfileSettings) -> x509.KeyUsage:
    names = set(profile.key_usage)
    return x509.KeyUsage(
        digital_signature="digitalSignature" in names,
        content_commitment="nonRepudiation" in names,
        key_encipherment="keyEncipherment" in names,
        data_encipherment="dataEncipherment" in names,
        key_agreement="keyAgreement" in names,
        key_cert_sign="keyCertSign" in names,
        crl_sign="cRLSign" in names,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class ExtensionContext:
    """What the extensions of one certificate depend on besides the profile."""

    public_key: CertificatePublicKeyTypes
    issuer_ski: bytes | None  # None for a self-signed root
    policy_oid: str
    cps_uri: str
    ocsp_url: str
    ca_issuers_url: str
    crl_url: str
    email: str | None = None


def build_extensions(profile: ProfileSettings, ctx: ExtensionContext) -> list[tuple[x509.ExtensionType, bool]]:
    """The extensions (value, critical) of a certificate under ``profile``, in a fixed order so the
    intended TBS is reproducible."""
    exts: list[tuple[x509.ExtensionType, bool]] = []
    if profile.is_ca:
        path_length = None if profile.template == "root-ca" else 0
        exts.append((x509.BasicConstraints(ca=True, path_length=path_length), True))
    elif profile.template != "natural-person":
        exts.append((x509.BasicConstraints(ca=False, path_length=None), True))
    exts.append((key_usage(profile), profile.key_usage_critical))
    if profile.extended_key_usage:
        ekus = [EXTENDED_KEY_USAGES[name] for name in profile.extended_key_usage]
        exts.append((x509.ExtendedKeyUsage(ekus), profile.extended_key_usage_critical))
    if profile.ocsp_no_check:
        # RFC 6960 §4.2.2.2.1 id-pkix-ocsp-nocheck
        exts.append((x509.OCSPNoCheck(), False))
    if profile.any_policy:
        any_policy = x509.PolicyInformation(CertificatePoliciesOID.ANY_POLICY, [ctx.cps_uri])
        exts.append((x509.CertificatePolicies([any_policy]), False))
    elif profile.certificate_policies:
        policies = [x509.PolicyInformation(x509.ObjectIdentifier(ctx.policy_oid), [ctx.cps_uri])]
        if profile.etsi_policy:
            policies.append(x509.PolicyInformation(x509.ObjectIdentifier(profile.etsi_policy), None))
        exts.append((x509.CertificatePolicies(policies), False))
    if ctx.email and profile.allow_email:
        exts.append((x509.SubjectAlternativeName([x509.RFC822Name(ctx.email)]), False))
    if profile.crl_distribution_point:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(ctx.crl_url)], None, None, None)
        exts.append((x509.CRLDistributionPoints([point]), False))
    if profile.authority_info_access:
        exts.append(
            (
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ctx.ocsp_url)
                        ),
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier(ctx.ca_issuers_url),
                        ),
                    ]
                ),
                False,
            )
        )
    exts.append((x509.SubjectKeyIdentifier.from_public_key(ctx.public_key), False))  # type: ignore[arg-type]
    if ctx.issuer_ski is not None:
        exts.append((x509.AuthorityKeyIdentifier(ctx.issuer_ski, None, None), False))
    return exts
