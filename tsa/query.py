"""Parse and check a TimeStampReq (RFC 3161 §2.4.1).

:func:`parse_query` either returns a :class:`TimeStampQuery` or raises one of the
:class:`tsa.errors.TSARejection` kinds, whatever the input; the hypothesis tests hold it to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from asn1crypto import core as asn1
from asn1crypto import tsp

from core import der
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
    simple = _decode_simple(data)
    return simple if simple is not None else _decode_asn1(data)


def _decode_asn1(data: bytes) -> _Decoded:
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


# -- the common case, without asn1crypto ---------------------------------------------------------
#
# asn1crypto takes ~50 µs for a TimeStampReq. Nearly every query is version 1, a known hash,
# maybe a policy, a nonce and certReq, and no extensions: _decode_simple reads exactly that shape
# in canonical DER and returns None for anything else (or anything odd), which then goes through
# _decode_asn1, so odd or hostile input meets the same decoder as before. The tests check that
# both decoders agree on every input the simple one accepts.

_VERSION_1 = b"\x02\x01\x01"
_CERT_REQ_TRUE = b"\x01\x01\xff"  # X.690 §11.1; an explicit FALSE is not DER for a DEFAULT (§11.5)
# AlgorithmIdentifier contents → (hash OID, raw parameters), with and without NULL parameters.
_ALGORITHMS: dict[bytes, tuple[str, bytes | None]] = {
    **{der.oid(o): (o, None) for o in HASHES},
    **{der.oid(o) + _NULL: (o, _NULL) for o in HASHES},
}
# Longer policy OIDs are left to asn1crypto (no real one comes near; it bounds the work here).
_MAX_OID_OCTETS = 64


def _decode_simple(data: bytes) -> _Decoded | None:
    """RFC 3161 §2.4.1 TimeStampReq without extensions, in DER only; None for anything else."""
    end = len(data)
    outer = der.read_tlv(data, 0, end)
    if outer is None or outer[0] != der.SEQUENCE or outer[2] != end:
        return None
    pos = outer[1]
    if data[pos : pos + 3] != _VERSION_1:
        return None  # other versions get their usual error from the full decoder
    imprint = der.read_tlv(data, pos + 3, end)
    if imprint is None or imprint[0] != der.SEQUENCE:
        return None
    algorithm = der.read_tlv(data, imprint[1], imprint[2])
    if algorithm is None or algorithm[0] != der.SEQUENCE:
        return None
    known = _ALGORITHMS.get(data[algorithm[1] : algorithm[2]])
    if known is None:
        return None
    hashed = der.read_tlv(data, algorithm[2], imprint[2])
    if hashed is None or hashed[0] != der.OCTET_STRING or hashed[2] != imprint[2]:
        return None
    pos = imprint[2]
    policy = None
    if pos < end and data[pos] == der.OBJECT_IDENTIFIER:
        field = der.read_tlv(data, pos, end)
        if field is None or field[2] - field[1] > _MAX_OID_OCTETS:
            return None
        policy = _dotted(data[field[1] : field[2]])
        if policy is None:
            return None
        pos = field[2]
    nonce = None
    if pos < end and data[pos] == der.INTEGER:
        field = der.read_tlv(data, pos, end)
        if field is None:
            return None
        nonce = _signed(data[field[1] : field[2]])
        if nonce is None:
            return None
        pos = field[2]
    cert_req = data[pos : pos + 3] == _CERT_REQ_TRUE
    if cert_req:
        pos += 3
    if pos != end:
        return None  # extensions, an explicit FALSE, or anything out of order
    return _Decoded(
        version="v1",
        hash_oid=known[0],
        params=known[1],
        imprint=data[hashed[1] : hashed[2]],
        policy=policy,
        nonce=nonce,
        cert_req=cert_req,
        extensions=(),
    )


@lru_cache(maxsize=256)  # a TSA sees a handful of policies
def _dotted(body: bytes) -> str | None:
    """Dotted text of OBJECT IDENTIFIER contents (X.690 §8.19); None unless canonical: non-empty,
    no subidentifier starting with 0x80 (§8.19.2), the last one complete."""
    if not body or body[-1] & 0x80:
        return None
    arcs: list[int] = []
    value = 0
    for octet in body:
        if value == 0 and octet == 0x80:
            return None
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    # §8.19.4: the first subidentifier packs two arcs; the first arc is 0, 1 or 2.
    head = [first // 40, first % 40] if first < 80 else [2, first - 80]
    return ".".join(map(str, head + arcs[1:]))


def _signed(content: bytes) -> int | None:
    """Two's complement INTEGER contents, or None unless minimal (X.690 §8.3.2)."""
    if not content:
        return None
    if len(content) > 1 and ((content[0] == 0 and content[1] < 0x80) or (content[0] == 0xFF and content[1] >= 0x80)):
        return None
    return int.from_bytes(content, "big", signed=True)


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
