"""Archive timestamps as proofs of existence (EN 319 102-1 §5.6.2), shared by CAdES and XAdES.

The format modules compute the message imprint their standard defines (EN 319 122-1 §5.5.3,
EN 319 132-1 §5.5.2.2) and hand it here with the token. A token is validated like a signature
timestamp: its signature, the TSA's certificate path and the imprint. Archive timestamps are
validated from the newest to the oldest: the newest at the validation time, an older one whose
TSA path no longer validates now at the time of the next valid one (the newer timestamp covers the
older token, so it proves the token existed then; §5.6.2.4 past validation of a timestamp).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from pyhanko.sign.validation import errors as ph_errors
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from core.clock import ensure_utc
from verifier.common import PARSE_ERRORS, timestamp_info
from verifier.environment import VerificationEnvironment
from verifier.report import Indication, SubIndication, TimestampInfo, Verdict

# More archive timestamps than this on one signature are not examined (bounded work).
MAX_ARCHIVE_TIMESTAMPS = 8
TOKEN_ERRORS: tuple[type[BaseException], ...] = (ph_errors.SignatureValidationError, *PARSE_ERRORS)
ARCHIVE_FAILED = Verdict(
    Indication.INDETERMINATE,
    SubIndication.SIG_CONSTRAINTS_FAILURE,
    "an archive timestamp does not validate",
)


def digest(algorithm: str, data: bytes) -> bytes:
    """``data`` hashed with the algorithm named as asn1crypto names it (sha256, sha3_256, …)."""
    h = hashes.Hash(get_pyca_cryptography_hash(algorithm))
    h.update(data)
    return h.finalize()


@dataclass(frozen=True)
class ArchiveToken:
    """One archive timestamp: the token and the imprint function its standard defines (either is
    None when the structure around it is broken), and its claimed time (for ordering)."""

    token: cms.ContentInfo | None
    imprint: Callable[[str], bytes] | None

    @property
    def claimed_time(self) -> datetime | None:
        try:
            tst = self.token["content"]["encap_content_info"]["content"].parsed if self.token else None
            return ensure_utc(tst["gen_time"].native) if tst is not None else None
        except PARSE_ERRORS:
            return None


def load_token(der: bytes) -> cms.ContentInfo:
    """A timestamp token: ContentInfo with SignedData encapsulating TSTInfo (RFC 3161 §2.4.2)."""
    token = cms.ContentInfo.load(der, strict=True)
    if token["content_type"].native != "signed_data":
        raise ValueError("the timestamp token is not SignedData")
    if token["content"]["encap_content_info"]["content_type"].native != "tst_info":
        raise ValueError("the timestamp token does not hold TSTInfo")
    return token


def failed_stamp() -> TimestampInfo:
    return TimestampInfo(
        kind="archive", time=None, indication=Indication.TOTAL_FAILED, sub_indication=SubIndication.FORMAT_FAILURE
    )


@dataclass
class ValidationData:
    """What the document offers for the TSA paths (certificates and revocation data)."""

    certs: Iterable[asn1_x509.Certificate] = ()
    crls: Iterable[asn1_crl.CertificateList] = ()
    ocsps: Iterable[asn1_ocsp.OCSPResponse] = ()


async def validate_archive_tokens(
    tokens: list[ArchiveToken], env: VerificationEnvironment, data: ValidationData
) -> list[TimestampInfo]:
    """Validate the tokens newest first (see the module docstring); the result is in time order."""
    ordered = sorted(
        tokens[:MAX_ARCHIVE_TIMESTAMPS], key=lambda t: (t.claimed_time is None, t.claimed_time or env.moment)
    )
    results: list[TimestampInfo] = []
    later_poe: datetime | None = None
    for item in reversed(ordered):
        info = await _validate_one(item, env, data, None)
        if info.indication is Indication.INDETERMINATE and later_poe is not None:
            info = await _validate_one(item, env, data, later_poe)
        if info.indication is Indication.TOTAL_PASSED and info.time is not None:
            later_poe = info.time
        results.append(info)
    return list(reversed(results))


async def _validate_one(
    item: ArchiveToken, env: VerificationEnvironment, data: ValidationData, moment: datetime | None
) -> TimestampInfo:
    if item.token is None or item.imprint is None:
        return failed_stamp()
    contexts = env.contexts(other_certs=data.certs, crls=data.crls, ocsps=data.ocsps, moment=moment)
    try:
        kwargs = await validate_tst_signed_data(item.token["content"], contexts.timestamps, item.imprint)
    except TOKEN_ERRORS:
        return failed_stamp()
    info = timestamp_info("archive", TimestampSignatureStatus(**kwargs))
    return replace(info, token_sha256=hashlib.sha256(item.token.dump()).hexdigest().upper())


def earliest_valid(stamps: Iterable[TimestampInfo]) -> datetime | None:
    """The proof of existence the archive timestamps give: the earliest valid one's time."""
    times = [s.time for s in stamps if s.indication is Indication.TOTAL_PASSED and s.time is not None]
    return min(times) if times else None


def archive_verdicts(stamps: Iterable[TimestampInfo]) -> list[Verdict]:
    """An archive timestamp that does not validate keeps the signature from TOTAL_PASSED (as a
    signature timestamp that does not validate does): a tampered B-LTA signature never passes."""
    return [ARCHIVE_FAILED] if any(s.indication is not Indication.TOTAL_PASSED for s in stamps) else []
