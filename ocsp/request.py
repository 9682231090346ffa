"""Parsing of OCSP requests (RFC 6960 §4.1, RFC 5019 §2.1, RFC 9654 nonce) and of the GET form
(RFC 6960 Appendix A.1).

Everything that is not a well-formed request we can act on raises
:class:`~ocsp.errors.MalformedRequestError` — and nothing else, whatever the input.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from asn1crypto import core as asn1_core
from asn1crypto import ocsp as asn1_ocsp

from core.der import read_tlv
from ocsp.errors import MalformedRequestError

# CertID hash algorithms we index (OID → name, digest length).
HASH_ALGORITHMS: dict[str, tuple[str, int]] = {
    "1.3.14.3.2.26": ("sha1", 20),
    "2.16.840.1.101.3.4.2.1": ("sha256", 32),
    "2.16.840.1.101.3.4.2.2": ("sha384", 48),
    "2.16.840.1.101.3.4.2.3": ("sha512", 64),
}
OID_NONCE = "1.3.6.1.5.5.7.48.1.2"
OID_ACCEPTABLE_RESPONSES = "1.3.6.1.5.5.7.48.1.4"
OID_PREFERRED_SIGNATURE_ALGORITHMS = "1.3.6.1.5.5.7.48.1.8"
OID_SERVICE_LOCATOR = "1.3.6.1.5.5.7.48.1.7"
OID_BASIC_RESPONSE = "1.3.6.1.5.5.7.48.1.1"

# Request extensions we act on even when marked critical; others marked critical are refused.
_UNDERSTOOD_CRITICAL = frozenset({OID_NONCE, OID_ACCEPTABLE_RESPONSES})
NONCE_MIN, NONCE_MAX = 1, 128  # RFC 9654 §2.1 (obsoletes RFC 8954 and its 32-octet cap)
_B64_CHARS = re.compile(r"^[A-Za-z0-9+/\-_=\s]*$")


@dataclass(frozen=True)
class CertID:
    """One CertID as received; ``der`` is echoed unchanged in the single response (RFC 6960 §4.2.1)."""

    hash_algorithm: str
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial: int
    der: bytes


@dataclass(frozen=True)
class ParsedRequest:
    """``nonce`` is the nonce's value; ``nonce_extn_value`` the extnValue contents exactly as
    received, which the response echoes (RFC 9654 §2.1). They differ for a conforming nonce (an
    OCTET STRING inside the extnValue) and coincide for a BDOC/DigiDoc-style nonce whose extnValue
    holds another DER value directly (e.g. a DigestInfo of the signature value)."""

    cert_ids: tuple[CertID, ...]
    nonce: bytes | None = None
    nonce_extn_value: bytes | None = None

    @property
    def single(self) -> CertID | None:
        return self.cert_ids[0] if len(self.cert_ids) == 1 else None


def parse_request(der: bytes, *, max_bytes: int = 65536, max_requests: int = 20) -> ParsedRequest:
    """Parse a DER ``OCSPRequest``; raise :class:`MalformedRequestError` on anything else."""
    if not der:
        raise MalformedRequestError("empty request")
    if len(der) > max_bytes:
        raise MalformedRequestError(f"request exceeds {max_bytes} bytes", http_status=413)
    quick = _parse_simple(der)
    if quick is not None:
        return quick
    try:
        return _parse(der, max_requests)
    except MalformedRequestError:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError... on bad input
        raise MalformedRequestError(f"not a DER OCSPRequest ({type(exc).__name__})") from None


def decode_get_path(encoded: str, *, max_bytes: int = 65536) -> bytes:
    """RFC 6960 Appendix A.1: ``GET {url}/{url-encoding of base-64 encoding of the DER OCSPRequest}``.

    The caller passes the path after ``/ocsp/`` with percent-escapes already decoded. Padding is
    optional and the URL-safe alphabet (``-``, ``_``) is accepted too, as some clients use it.
    """
    text = encoded.strip()
    if not text:
        raise MalformedRequestError("empty GET request")
    if len(text) > (max_bytes * 4) // 3 + 8:
        raise MalformedRequestError(f"request exceeds {max_bytes} bytes", http_status=414)
    if not _B64_CHARS.match(text):
        raise MalformedRequestError("GET request is not base64")
    text = "".join(text.split()).replace("-", "+").replace("_", "/").rstrip("=")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedRequestError("GET request is not valid base64") from None


def _parse(der: bytes, max_requests: int) -> ParsedRequest:
    request = asn1_ocsp.OCSPRequest.load(der, strict=True)
    tbs = request["tbs_request"]
    if tbs["version"].native != "v1":
        raise MalformedRequestError("unsupported OCSPRequest version")
    # optionalSignature and requestorName are allowed and ignored: this responder serves anyone
    # (RFC 6960 §4.1.2: the signature is optional; we do not require signed requests).
    _ = tbs["requestor_name"].native
    nonce = _request_extensions(tbs["request_extensions"])
    items = tbs["request_list"]
    count = len(items)
    if count == 0:
        raise MalformedRequestError("requestList is empty")
    if count > max_requests:
        raise MalformedRequestError(f"more than {max_requests} requests in one message")
    cert_ids = []
    for item in items:
        _single_extensions(item["single_request_extensions"])
        cert_ids.append(_cert_id(item["req_cert"]))
    value, extn_value = nonce if nonce is not None else (None, None)
    return ParsedRequest(tuple(cert_ids), value, extn_value)


def _cert_id(cert_id: asn1_ocsp.CertId) -> CertID:
    algorithm = cert_id["hash_algorithm"]
    oid = algorithm["algorithm"].dotted
    if oid not in HASH_ALGORITHMS:
        raise MalformedRequestError(f"unsupported CertID hash algorithm {oid}")
    parameters = algorithm["parameters"]
    if parameters.native is not None:
        # RFC 5754 §2: absent or NULL; anything else is not a hash we know.
        raise MalformedRequestError("CertID hash algorithm parameters must be absent or NULL")
    name, length = HASH_ALGORITHMS[oid]
    name_hash = bytes(cert_id["issuer_name_hash"].native)
    key_hash = bytes(cert_id["issuer_key_hash"].native)
    if len(name_hash) != length or len(key_hash) != length:
        raise MalformedRequestError(f"CertID hashes must be {length} octets for {name}")
    serial = cert_id["serial_number"].native
    if not isinstance(serial, int):
        raise MalformedRequestError("CertID serialNumber is not an INTEGER")
    return CertID(name, name_hash, key_hash, serial, cert_id.dump())


class _RawExtension(asn1_core.Sequence):  # type: ignore[misc]
    """RFC 5280 §4.1 Extension with extnValue kept as plain octets: asn1crypto's own spec parses a
    nonce's extnValue as an OCTET STRING and fails on BDOC-style nonces (a DigestInfo there)."""

    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("extn_id", asn1_core.ObjectIdentifier),
        ("critical", asn1_core.Boolean, {"default": False}),
        ("extn_value", asn1_core.OctetString),
    ]


class _RawExtensions(asn1_core.SequenceOf):  # type: ignore[misc]
    _child_spec = _RawExtension


def _extensions(extensions: Any, tag: int) -> list[tuple[str, bool, bytes]]:
    """(OID, critical, raw extnValue contents) of an ``[tag] EXPLICIT Extensions``, duplicates refused."""
    if extensions is None or isinstance(extensions, asn1_core.Void):
        return []
    result = []
    seen: set[str] = set()
    for extension in _RawExtensions.load(extensions.dump(), strict=True, explicit=tag):
        oid = extension["extn_id"].dotted
        if oid in seen:
            raise MalformedRequestError(f"extension {oid} appears twice")  # RFC 5280 §4.2
        seen.add(oid)
        critical = bool(extension["critical"].native)
        result.append((oid, critical, bytes(extension["extn_value"].contents or b"")))
    return result


def _request_extensions(extensions: Any) -> tuple[bytes, bytes] | None:
    nonce: tuple[bytes, bytes] | None = None
    for oid, critical, value in _extensions(extensions, 2):
        if oid == OID_NONCE:
            nonce = _nonce(value)
        elif oid == OID_ACCEPTABLE_RESPONSES:
            accepted = asn1_core.SequenceOf.load(value, strict=True, spec=asn1_core.ObjectIdentifier)
            if OID_BASIC_RESPONSE not in {o.dotted for o in accepted}:
                # RFC 6960 §4.4.3: basic is the only type we produce.
                raise MalformedRequestError("the client does not accept id-pkix-ocsp-basic responses")
        elif critical and oid not in _UNDERSTOOD_CRITICAL:
            # RFC 5280 §4.2 (applied by RFC 6960 §4.4): an unrecognised critical extension must not be ignored.
            raise MalformedRequestError(f"unsupported critical request extension {oid}")
    return nonce


def _single_extensions(extensions: Any) -> None:
    for oid, critical, _value in _extensions(extensions, 0):
        if critical:
            raise MalformedRequestError(f"unsupported critical single-request extension {oid}")


def _nonce(extn_value: bytes) -> tuple[bytes, bytes]:
    """(nonce value, extnValue contents to echo) — RFC 9654 §2.1: ``Nonce ::= OCTET STRING(SIZE(1..128))``.

    A conforming nonce is an OCTET STRING of 1 to 128 octets inside the extnValue. BDOC/DigiDoc
    clients (and pyasice, following them) put a DER value such as a DigestInfo directly in the
    extnValue; such a nonce is echoed exactly as received when it is one complete DER element of
    1 to 128 octets. Anything else (empty, longer, not DER) is a malformedRequest.
    """
    element = _one_der_element(extn_value)
    if element is None:
        raise MalformedRequestError("nonce is not a DER value (RFC 9654 §2.1)")
    if element == 0x04:
        inner = asn1_core.OctetString.load(extn_value, strict=True).native
        if not isinstance(inner, bytes) or not NONCE_MIN <= len(inner) <= NONCE_MAX:
            raise MalformedRequestError(f"nonce must be {NONCE_MIN} to {NONCE_MAX} octets (RFC 9654 §2.1)")
        return inner, extn_value
    if not NONCE_MIN <= len(extn_value) <= NONCE_MAX:
        raise MalformedRequestError(f"nonce must be {NONCE_MIN} to {NONCE_MAX} octets (RFC 9654 §2.1)")
    return extn_value, extn_value


def _one_der_element(data: bytes) -> int | None:
    """The tag of ``data`` when it is exactly one DER element (low-tag-number form), else None."""
    tlv = read_tlv(data, 0, len(data))
    if tlv is None or tlv[2] != len(data) or tlv[0] & 0x1F == 0x1F:
        return None
    return tlv[0]


# -- the common case, without asn1crypto ---------------------------------------------------------
#
# Nearly every request is the RFC 5019 shape: one CertID, no signature, no requestor name, and
# at most a nonce. _parse_simple reads exactly that shape with a strict DER walk and returns None
# for anything else (or anything odd), which then goes through the full parser above; the tests
# check that both parsers agree on every input the simple one accepts.

_HASH_BY_DER = {
    bytes.fromhex("06052b0e03021a"): ("sha1", 20),
    bytes.fromhex("0609608648016503040201"): ("sha256", 32),
    bytes.fromhex("0609608648016503040202"): ("sha384", 48),
    bytes.fromhex("0609608648016503040203"): ("sha512", 64),
}
_NONCE_OID_DER = bytes.fromhex("06092b0601050507300102")
_NULL = b"\x05\x00"


def _parse_simple(der: bytes) -> ParsedRequest | None:
    end = len(der)
    outer = read_tlv(der, 0, end)
    if outer is None or outer[0] != 0x30 or outer[2] != end:
        return None
    tbs = read_tlv(der, outer[1], end)
    if tbs is None or tbs[0] != 0x30 or tbs[2] != end:  # no optionalSignature
        return None
    request_list = read_tlv(der, tbs[1], tbs[2])
    if request_list is None or request_list[0] != 0x30:  # no version, no requestorName
        return None
    request = read_tlv(der, request_list[1], request_list[2])
    if request is None or request[0] != 0x30 or request[2] != request_list[2]:  # exactly one
        return None
    cert_id = read_tlv(der, request[1], request[2])
    if cert_id is None or cert_id[0] != 0x30 or cert_id[2] != request[2]:  # no single extensions
        return None
    parsed = _simple_cert_id(der, cert_id)
    if parsed is None:
        return None
    if request_list[2] == tbs[2]:
        return ParsedRequest((parsed,))
    nonce = _simple_nonce(der, request_list[2], tbs[2])
    if nonce is None:
        return None
    return ParsedRequest((parsed,), *nonce)


def _simple_cert_id(der: bytes, cert_id: tuple[int, int, int]) -> CertID | None:
    _tag, start, end = cert_id
    algorithm = read_tlv(der, start, end)
    if algorithm is None or algorithm[0] != 0x30:
        return None
    body = der[algorithm[1] : algorithm[2]]
    oid = next((o for o in _HASH_BY_DER if body in (o, o + _NULL)), None)
    if oid is None:
        return None
    name, length = _HASH_BY_DER[oid]
    name_hash = read_tlv(der, algorithm[2], end)
    if name_hash is None or name_hash[0] != 0x04 or name_hash[2] - name_hash[1] != length:
        return None
    key_hash = read_tlv(der, name_hash[2], end)
    if key_hash is None or key_hash[0] != 0x04 or key_hash[2] - key_hash[1] != length:
        return None
    serial = read_tlv(der, key_hash[2], end)
    if serial is None or serial[0] != 0x02 or serial[2] != end or serial[2] == serial[1]:
        return None
    raw = der[serial[1] : serial[2]]
    if len(raw) > 1 and ((raw[0] == 0 and raw[1] < 0x80) or (raw[0] == 0xFF and raw[1] >= 0x80)):
        return None  # not minimal
    return CertID(
        name,
        der[name_hash[1] : name_hash[2]],
        der[key_hash[1] : key_hash[2]],
        int.from_bytes(raw, "big", signed=True),
        _element(der, start, end),
    )


def _element(der: bytes, content_start: int, content_end: int) -> bytes:
    """The whole DER element (header and content) whose content spans the given range."""
    size = content_end - content_start
    header = 2 if size < 0x80 else 2 + (size.bit_length() + 7) // 8
    return der[content_start - header : content_end]


def _simple_nonce(der: bytes, start: int, end: int) -> tuple[bytes, bytes] | None:
    """``[2] EXPLICIT Extensions`` holding exactly one non-duplicated nonce extension."""
    wrapper = read_tlv(der, start, end)
    if wrapper is None or wrapper[0] != 0xA2 or wrapper[2] != end:
        return None
    extensions = read_tlv(der, wrapper[1], wrapper[2])
    if extensions is None or extensions[0] != 0x30 or extensions[2] != wrapper[2]:
        return None
    extension = read_tlv(der, extensions[1], extensions[2])
    if extension is None or extension[0] != 0x30 or extension[2] != extensions[2]:
        return None
    oid = read_tlv(der, extension[1], extension[2])
    if oid is None or der[extension[1] : oid[2]] != _NONCE_OID_DER:
        return None
    position = oid[2]
    field = read_tlv(der, position, extension[2])
    if field is not None and field[0] == 0x01:  # critical BOOLEAN: only TRUE is valid DER here
        if der[field[1] : field[2]] != b"\xff":
            return None
        position = field[2]
        field = read_tlv(der, position, extension[2])
    if field is None or field[0] != 0x04 or field[2] != extension[2]:
        return None
    inner = read_tlv(der, field[1], field[2])
    if inner is None or inner[0] != 0x04 or inner[2] != field[2]:
        return None
    nonce = der[inner[1] : inner[2]]
    if not NONCE_MIN <= len(nonce) <= NONCE_MAX:
        return None  # the full parser gives the precise malformedRequest
    return nonce, der[field[1] : field[2]]
