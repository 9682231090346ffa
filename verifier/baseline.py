"""Which baseline level's requirements a signature meets (EN 319 122-1, 319 132-1, 319 142-1 §6).

The validators list the elements a signature holds (``present``); :func:`assess` checks them
against the cumulative requirements of B-B, B-T, B-LT and B-LTA and reports, for each level, what
is missing. The reported level is the highest one whose requirements, and those of every lower
level, are all met; ``none`` when not even B-B's are.

A CMS signature without a signing-certificate(-v2) attribute is plain CMS, not CAdES (EN 319
122-1 §5.2.2: the attribute is what binds the signer's certificate); an XML-DSig signature
without ``xades:QualifyingProperties`` is plain XML-DSig, not XAdES (EN 319 132-1 §4.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.report import LevelCheck

# Requirements per level, per format; each is one alternative set ("a or b" as a tuple).
_Requirement = tuple[str, ...]
REQUIREMENTS: dict[str, dict[str, tuple[_Requirement, ...]]] = {
    # EN 319 122-1 §6.3 Table 1.
    "CAdES": {
        "B-B": (
            ("content-type",),
            ("message-digest",),
            ("signing-certificate-v2", "signing-certificate"),
            ("signing-time",),
        ),
        "B-T": (("signature-time-stamp",),),
        "B-LT": (("certificate-values", "certificates"), ("revocation-values", "crls")),
        "B-LTA": (("archive-time-stamp-v3",),),
    },
    # EN 319 132-1 §6.3 Table 1.
    "XAdES": {
        "B-B": (("SignedProperties",), ("SigningCertificateV2", "SigningCertificate"), ("SigningTime",)),
        "B-T": (("SignatureTimeStamp",),),
        "B-LT": (("CertificateValues",), ("RevocationValues",)),
        "B-LTA": (("ArchiveTimeStamp",),),
    },
    # EN 319 142-1 §6.3 Table 1.
    "PAdES": {
        "B-B": (("SubFilter ETSI.CAdES.detached",), ("signing-certificate-v2", "signing-certificate")),
        "B-T": (("signature-time-stamp", "document-time-stamp"),),
        "B-LT": (("DSS",),),
        "B-LTA": (("document-time-stamp after DSS",),),
    },
}
ORDER = ("B-B", "B-T", "B-LT", "B-LTA")


@dataclass(frozen=True)
class Assessment:
    level: str
    checks: tuple[LevelCheck, ...]


def assess(fmt: str, present: set[str] | frozenset[str]) -> Assessment:
    """The highest baseline level met (or ``none``) and, for every level, what is missing."""
    checks = []
    level = "none"
    reached = True
    for name in ORDER:
        missing = tuple(" or ".join(options) for options in REQUIREMENTS[fmt][name] if not set(options) & present)
        checks.append(LevelCheck(level=name, met=not missing, missing=missing))
        reached = reached and not missing
        if reached:
            level = name
    return Assessment(level, tuple(checks))


def summary(checks: tuple[LevelCheck, ...]) -> str | None:
    """A warning naming the first level whose requirements are not met, or None when all are."""
    for check in checks:
        if not check.met:
            return f"requirements of {check.level} not met: missing {', '.join(check.missing)}"
    return None
