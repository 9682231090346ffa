"""XAdES xadesv141:ArchiveTimeStamp (ETSI EN 319 132-1 §5.5.2, input per §5.5.2.2).

The message imprint covers, concatenated in this order:

1. for each ds:Reference of ds:SignedInfo, in order, the octets its digest is computed over (the
   result of the reference-processing model, as the signature's verification produced it);
2. ds:SignedInfo, ds:SignatureValue and ds:KeyInfo (when present), each canonicalised;
3. every child of xades:UnsignedSignatureProperties that comes before this ArchiveTimeStamp, in
   document order, each canonicalised;
4. every ds:Object of the signature except the one holding xades:QualifyingProperties,
   each canonicalised.

Canonicalisation is the ArchiveTimeStamp's ds:CanonicalizationMethod (Canonical XML 1.0 when
absent). The older XAdES 1.3.2 ``xades:ArchiveTimeStamp`` (ETSI TS 101 903 V1.3.2, a different
input) is reported as a timestamp that does not validate (FORMAT_FAILURE).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from verifier.archive import MAX_ARCHIVE_TIMESTAMPS, ArchiveToken, digest, load_token
from verifier.common import PARSE_ERRORS
from verifier.xades_parsing import NS, XADES, XADES141, standalone

_C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
    "http://www.w3.org/2006/12/xml-c14n11": (False, False),
    "http://www.w3.org/2006/12/xml-c14n11#WithComments": (False, True),
}
_TOKEN_ERRORS: tuple[type[BaseException], ...] = (binascii.Error, *PARSE_ERRORS)
_DEFAULT_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
_USP = "ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/xades:UnsignedSignatureProperties"
_ATS_TAGS = (f"{{{XADES141}}}ArchiveTimeStamp", f"{{{XADES}}}ArchiveTimeStamp")


def _canonical(element: Any, method: str) -> bytes:
    """Each element is canonicalised as a standalone copy carrying its in-scope namespaces (see
    :func:`verifier.xades_parsing.standalone`); Canonical XML 1.1 then equals 1.0, the two
    differing only in inherited xml:* attributes, which a standalone copy does not have."""
    exclusive, comments = _C14N[method]
    return bytes(etree.tostring(standalone(element), method="c14n", exclusive=exclusive, with_comments=comments))


def archive_input(signature: Any, stamp: Any, reference_octets: list[bytes], method: str) -> bytes:
    """The octets §5.5.2.2 time-stamps for ``stamp`` (see the module docstring)."""
    parts = list(reference_octets)
    for name in ("ds:SignedInfo", "ds:SignatureValue", "ds:KeyInfo"):
        element = signature.find(name, NS)
        if element is not None:
            parts.append(_canonical(element, method))
    for child in stamp.getparent():
        if child is stamp:
            break
        if isinstance(child.tag, str):
            parts.append(_canonical(child, method))
    for obj in signature.iterfind("ds:Object", NS):
        if obj.find("xades:QualifyingProperties", NS) is None:
            parts.append(_canonical(obj, method))
    return b"".join(parts)


def _imprint(signature: Any, stamp: Any, reference_octets: list[bytes], method: str) -> Callable[[str], bytes]:
    covered: list[bytes] = []

    def imprint(algorithm: str) -> bytes:
        if not covered:
            covered.append(archive_input(signature, stamp, reference_octets, method))
        return digest(algorithm, covered[0])

    return imprint


def archive_tokens(signature: Any, reference_octets: list[bytes] | None) -> list[ArchiveToken]:
    """The tokens of the ArchiveTimeStamps of ``signature`` (a time-stamp container may hold more
    than one xades:EncapsulatedTimeStamp, each over the same input, EN 319 132-1 §5.3); without
    the references' octets (the signature did not verify) no imprint can be computed and each
    token is reported as not validating."""
    usp = signature.find(_USP, NS)
    if usp is None:
        return []
    tokens: list[ArchiveToken] = []
    for stamp in usp:
        if stamp.tag in _ATS_TAGS:
            tokens.extend(_tokens(signature, stamp, reference_octets))
    return tokens[:MAX_ARCHIVE_TIMESTAMPS]


def _tokens(signature: Any, stamp: Any, reference_octets: list[bytes] | None) -> list[ArchiveToken]:
    method_node = stamp.find("ds:CanonicalizationMethod", NS)
    method = method_node.get("Algorithm") if method_node is not None else _DEFAULT_C14N
    supported = stamp.tag == _ATS_TAGS[0] and method in _C14N and reference_octets is not None
    imprint = _imprint(signature, stamp, reference_octets or [], method) if supported else None
    encapsulated = stamp.findall("xades:EncapsulatedTimeStamp", NS)[:MAX_ARCHIVE_TIMESTAMPS]
    if not encapsulated:
        return [ArchiveToken(None, None)]
    tokens = []
    for node in encapsulated:
        try:
            token = load_token(base64.b64decode("".join((node.text or "").split()), validate=True))
        except _TOKEN_ERRORS:
            tokens.append(ArchiveToken(None, None))
            continue
        tokens.append(ArchiveToken(token, imprint))
    return tokens
