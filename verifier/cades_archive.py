"""CAdES archive-time-stamp-v3 (ETSI EN 319 122-1 §5.5.3) and its ats-hash-index-v3 (§5.5.2).

The message imprint of an archive-time-stamp-v3 is the hash (with the token's imprint algorithm)
of the concatenation, each field in its encoding as it is in the signature, of:

1. ``SignedData.encapContentInfo.eContentType``;
2. the hash (same algorithm) of the signed content: the eContent octets, or the detached content;
3. ``version``, ``sid``, ``digestAlgorithm``, ``signedAttrs``, ``signatureAlgorithm`` and
   ``signature`` of the SignerInfo (everything but the unsigned attributes);
4. the ats-hash-index-v3 attribute value in the token's own unsigned attributes.

The index (hashed with its ``hashIndAlgorithm``, default SHA-256) lists every certificate
(``CertificateChoices``), every revocation entry (``RevocationInfoChoice``) of the SignedData and,
for v3, the hash of ``attrType`` followed by one ``AttributeValue`` for every value of every
unsigned attribute present when the token was made. Each listed hash must still match an element
of the signature; elements added later (newer archive timestamps, more validation data) are not
covered and need not be listed. The older ats-hash-index of ETSI TS 101 733 V2.2.1 (hashes of whole
attributes) is accepted the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import algos, cms
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from asn1crypto.parser import parse

from verifier.archive import MAX_ARCHIVE_TIMESTAMPS, ArchiveToken, digest, load_token
from verifier.common import PARSE_ERRORS, present

ARCHIVE_TIME_STAMP_V3 = "0.4.0.1733.2.4"
ATS_HASH_INDEX_V3 = "0.4.0.19122.1.5"
ATS_HASH_INDEX_V2_2_1 = "0.4.0.1733.2.5"  # ETSI TS 101 733 V2.2.1, whole-attribute hashes
CERTIFICATE_VALUES = "1.2.840.113549.1.9.16.2.23"
_SIGNER_FIELDS = ("version", "sid", "digest_algorithm", "signed_attrs", "signature_algorithm", "signature")
MAX_INDEX_ENTRIES = 4096


class _Hashes(asn1_core.SequenceOf):  # type: ignore[misc]
    _child_spec = asn1_core.OctetString


class _Certificates(asn1_core.SequenceOf):  # type: ignore[misc]
    _child_spec = asn1_x509.Certificate


@dataclass(frozen=True)
class HashIndex:
    """ATSHashIndexV3 ::= SEQUENCE { hashIndAlgorithm DEFAULT sha256, certificatesHashIndex,
    crlsHashIndex, unsignedAttrsHashIndex } (each a SEQUENCE OF OCTET STRING)."""

    der: bytes
    algorithm: str
    certificates: tuple[bytes, ...]
    crls: tuple[bytes, ...]
    unsigned_attrs: tuple[bytes, ...]
    per_value: bool  # v3: one hash per attribute value; TS 101 733: one per attribute


def _children(der: bytes) -> list[bytes]:
    """The encodings of the elements of a SEQUENCE (its DEFAULT first field makes the generic
    asn1crypto specification ambiguous: an omitted AlgorithmIdentifier looks like a SEQUENCE OF)."""
    _cls, _constructed, tag, _header, body, _trailer = parse(der, strict=True)
    if tag != 16:
        raise ValueError("the hash index is not a SEQUENCE")
    items, offset = [], 0
    while offset < len(body):
        item = parse(body[offset:])
        size = len(item[3]) + len(item[4]) + len(item[5])
        items.append(body[offset : offset + size])
        offset += size
    return items


def parse_hash_index(der: bytes, per_value: bool) -> HashIndex:
    items = _children(der)
    algorithm = "sha256"
    if len(items) == 4:
        algorithm = algos.DigestAlgorithm.load(items[0])["algorithm"].native
        items = items[1:]
    if len(items) != 3:
        raise ValueError("the hash index does not have three lists")
    lists = [tuple(h.native for h in _Hashes.load(item, strict=True)) for item in items]
    if sum(len(x) for x in lists) > MAX_INDEX_ENTRIES:
        raise ValueError("the hash index is too large")
    digest(algorithm, b"")  # an unknown algorithm fails here, as a parse error
    return HashIndex(der, algorithm, lists[0], lists[1], lists[2], per_value)


def _token_index(token: cms.ContentInfo) -> HashIndex:
    signer = token["content"]["signer_infos"][0]
    found = []
    attrs = signer["unsigned_attrs"]
    for attr in attrs if present(attrs) else ():
        oid = attr["type"].dotted
        if oid in (ATS_HASH_INDEX_V3, ATS_HASH_INDEX_V2_2_1):
            if len(attr["values"]) != 1:
                raise ValueError("the hash index attribute must have one value")
            found.append(parse_hash_index(attr["values"][0].dump(), per_value=oid == ATS_HASH_INDEX_V3))
    if len(found) != 1:
        raise ValueError("an archive-time-stamp-v3 needs exactly one ats-hash-index-v3")
    return found[0]


def _unsigned_hashes(signer: cms.SignerInfo, index: HashIndex) -> set[bytes]:
    result: set[bytes] = set()
    attrs = signer["unsigned_attrs"]
    for attr in attrs if present(attrs) else ():
        if index.per_value:
            kind = attr["type"].dump()
            result.update(digest(index.algorithm, kind + value.dump()) for value in attr["values"])
        else:
            result.add(digest(index.algorithm, attr.dump()))
    return result


def index_holds(signed_data: cms.SignedData, signer: cms.SignerInfo, index: HashIndex) -> bool:
    """Every element the index lists is still in the signature, unchanged (§5.5.2)."""
    certs = signed_data["certificates"]
    crls = signed_data["crls"]
    cert_hashes = {digest(index.algorithm, c.dump()) for c in certs} if present(certs) else set()
    crl_hashes = {digest(index.algorithm, c.dump()) for c in crls} if present(crls) else set()
    return (
        set(index.certificates) <= cert_hashes
        and set(index.crls) <= crl_hashes
        and set(index.unsigned_attrs) <= _unsigned_hashes(signer, index)
    )


def imprint_function(
    signed_data: cms.SignedData,
    signer: cms.SignerInfo,
    content_digest: Callable[[str], bytes],
    index: HashIndex,
) -> Callable[[str], bytes]:
    """The §5.5.3 message imprint for the token's hash algorithm; when an indexed element is
    missing or changed, an imprint no token can match (the token then fails as not intact)."""
    holds: list[bool] = []

    def imprint(algorithm: str) -> bytes:
        if not holds:
            holds.append(index_holds(signed_data, signer, index))
        if not holds[0]:
            return b""
        parts = [signed_data["encap_content_info"]["content_type"].dump(), content_digest(algorithm)]
        parts += [signer[name].dump() for name in _SIGNER_FIELDS]
        parts.append(index.der)
        return digest(algorithm, b"".join(parts))

    return imprint


def archive_tokens(
    signed_data: cms.SignedData, signer: cms.SignerInfo, content_digest: Callable[[str], bytes]
) -> list[ArchiveToken]:
    """The archive-time-stamp-v3 tokens of one SignerInfo with their imprint functions."""
    tokens: list[ArchiveToken] = []
    attrs = signer["unsigned_attrs"]
    for attr in attrs if present(attrs) else ():
        if attr["type"].dotted != ARCHIVE_TIME_STAMP_V3:
            continue
        for value in attr["values"]:
            if len(tokens) >= MAX_ARCHIVE_TIMESTAMPS:
                return tokens
            try:
                token = load_token(value.dump())
            except PARSE_ERRORS:
                tokens.append(ArchiveToken(None, None))
                continue
            try:
                index = _token_index(token)
                tokens.append(ArchiveToken(token, imprint_function(signed_data, signer, content_digest, index)))
            except PARSE_ERRORS:
                tokens.append(ArchiveToken(token, None))
    return tokens


def certificate_values(signer: cms.SignerInfo) -> list[asn1_x509.Certificate]:
    """The certificate-values unsigned attribute (EN 319 122-1 §5.4.1): validation data."""
    found: list[asn1_x509.Certificate] = []
    attrs = signer["unsigned_attrs"]
    for attr in attrs if present(attrs) else ():
        if attr["type"].dotted == CERTIFICATE_VALUES:
            for value in attr["values"]:
                found.extend(_Certificates.load(value.dump()))
    return found
