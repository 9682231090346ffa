"""Parse and check a TimeStampReq (RFC 3161 §2.4.1).

:func:`parse_query` either returns a :class:`TimeStampQuery` or raises one of the
:class:`tsa.errors.TSARejection` kinds, whatever the input; the hypothesis tests hold it to that.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core as asn1
from asn1crypto import tsp

from tsa.errors import (
    BadAlgorithmError,
    BadDataFormatError,
    BadRequestTSAError,
    UnacceptedExtensionError,
    UnacceptedPolicyError,
)

SHA1 = "1.3.14.3.2.26"
# Accepted imprint hashes: OID → (name, digest length in octets).
HASHES: dict[str, tuple[str, int]] = {
    SHA1: ("sha1", 20),
    "2.16.840.1.101.3.4.2.1": ("sha256", 32),
    "2.16.840.1.101.3.4.2.2": ("sha384", 48),
    "2.16.840.1.101.3.4.2.3": ("sha512", 64),
}
# A nonce is a large random integer (RFC 3161 §2.4.1); 64 octets is far above any client's.
MAX_NONCE_OCTETS = 64
_NULL = b"\x05\x00"


@dataclass(frozen=True)
class QueryRules:
    """What the TSA accepts (from :class:`tsa.settings.TSASettings`)."""

    policies: tuple[str, ...]
    accept_sha1: bool = False
    # Non-critical extensions are ignored; critical ones must be listed here (none are by default).
    understood_extensions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TimeStampQuery:
    """A decoded, accepted query."""

    hash_oid: str
    hash_algorithm: str
    # Whether the query's AlgorithmIdentifier carried NULL parameters (copied into the token).
    hash_params_null: bool
    imprint: bytes
    policy: str | None
    nonce: int | None
    cert_req: bool


@dataclass(frozen=True)
class _Decoded:
    version: object
    hash_oid: str
    params: bytes | None
    imprint: bytes
    policy: str | None
    nonce: int | None
    cert_req: bool
    extensions: tuple[tuple[str, bool], ...]


def _decode(data: bytes) -> _Decoded:
    request = tsp.TimeStampReq.load(data, strict=True)
    imprint = request["message_imprint"]
    algorithm = imprint["hash_algorithm"]
    params = algorithm["parameters"]
    raw_params = None if isinstance(params, asn1.Void) else params.dump()
    policy = request["req_policy"]
    nonce = request["nonce"]
    extensions = request["extensions"]
    decoded_extensions: tuple[tuple[str, bool], ...] = ()
    if not isinstance(extensions, asn1.Void):
        decoded_extensions = tuple((ext["extn_id"].dotted, bool(ext["critical"].native)) for ext in extensions)
    hashed = imprint["hashed_message"].native
    cert_req = request["cert_req"].native
    if not isinstance(hashed, bytes) or not isinstance(cert_req, bool):
        raise TypeError("unexpected field types")
    return _Decoded(
        version=request["version"].native,
        hash_oid=algorithm["algorithm"].dotted,
        params=raw_params,
        imprint=hashed,
        policy=None if isinstance(policy, asn1.Void) else policy.dotted,
        nonce=None if isinstance(nonce, asn1.Void) else int(nonce.native),
        cert_req=cert_req,
        extensions=decoded_extensions,
    )


def parse_query(data: bytes, rules: QueryRules) -> TimeStampQuery:
    """Decode ``data`` (DER TimeStampReq) and apply the TSA's acceptance rules.

    RFC 3161 §2.4.2 failure bits: undecodable or unsupported version → badRequest; hash not
    accepted → badAlg; imprint length not matching its hash, or odd parameters → badDataFormat;
    policy not accepted → unacceptedPolicy; unknown critical extension → unacceptedExtension.
    """
    try:
        decoded = _decode(data)
    except Exception as exc:  # any decoder failure on untrusted input is "undecodable"
        raise BadRequestTSAError("the time-stamp query could not be decoded") from exc
    if decoded.version != "v1":
        raise BadRequestTSAError(f"unsupported TimeStampReq version {decoded.version!r}")
    known = HASHES.get(decoded.hash_oid)
    if known is None or (decoded.hash_oid == SHA1 and not rules.accept_sha1):
        raise BadAlgorithmError(known[0] if known else decoded.hash_oid)
    name, size = known
    if decoded.params not in (None, _NULL):
        raise BadDataFormatError(f"{name} takes no parameters")
    if len(decoded.imprint) != size:
        raise BadDataFormatError(f"a {name} imprint is {size} octets, not {len(decoded.imprint)}")
    if decoded.policy is not None and decoded.policy not in rules.policies:
        raise UnacceptedPolicyError(decoded.policy)
    if decoded.nonce is not None and (abs(decoded.nonce).bit_length() + 8) // 8 > MAX_NONCE_OCTETS:
        raise BadDataFormatError(f"the nonce is longer than {MAX_NONCE_OCTETS} octets")
    for extension, critical in decoded.extensions:
        if critical and extension not in rules.understood_extensions:
            raise UnacceptedExtensionError(extension)
    return TimeStampQuery(
        hash_oid=decoded.hash_oid,
        hash_algorithm=name,
        hash_params_null=decoded.params == _NULL,
        imprint=decoded.imprint,
        policy=decoded.policy,
        nonce=decoded.nonce,
        cert_req=decoded.cert_req,
    )
