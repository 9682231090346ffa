"""Reading the request body: media type, format sniffing, multipart/form-data, DER sanity.

Everything here is bounded: the body is already limited in size, multipart bodies may hold at
most ``max_parts`` parts, and DER is walked iteratively with a nesting limit before any ASN.1
library sees it (deeply nested input must not exhaust the stack).
"""

from __future__ import annotations

import base64
import binascii
import email.message
import re
from dataclasses import dataclass
from typing import Literal

from verifier.errors import MalformedMultipartError, UnparseableDocumentError, UnsupportedMediaTypeError

Kind = Literal["pdf", "xml", "cms", "asic"]

MEDIA_TYPES: dict[str, Kind | None] = {
    "application/pdf": "pdf",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/pkcs7-signature": "cms",
    "application/pkcs7-mime": "cms",
    "application/x-pkcs7-signature": "cms",
    "application/x-pkcs7-mime": "cms",
    "application/cms": "cms",
    "application/octet-stream": None,  # sniffed
    "application/vnd.etsi.asic-e+zip": "asic",
    "application/vnd.etsi.asic-s+zip": "asic",
    "application/zip": "asic",
}
MULTIPART = "multipart/form-data"
MAX_DER_DEPTH = 64
_BOUNDARY = re.compile(r"^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$")  # RFC 2046 §5.1.1


@dataclass(frozen=True)
class Part:
    """One part of a multipart body: ``label`` is the file name when given, else the field name."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def label(self) -> str:
        return self.filename or self.name


@dataclass(frozen=True)
class Submission:
    kind: Kind
    media_type: str
    signature: bytes
    detached: tuple[Part, ...] = ()


def parse_media_type(header: str | None) -> tuple[str, dict[str, str]]:
    if not header:
        return "", {}
    message = email.message.Message()
    message["content-type"] = header
    params = {k.lower(): str(v) for k, v in message.get_params(failobj=[])[1:]}
    return message.get_content_type().lower(), params


def sniff(data: bytes) -> Kind | None:
    """Recognise a PDF (ISO 32000 §7.5.2 header within the first KiB), XML, CMS (DER or PEM) or a
    ZIP container (APPNOTE §4.3.7 local header, or the end record of an empty archive)."""
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "asic"
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        return "xml"
    if stripped.startswith((b"-----BEGIN PKCS7-----", b"-----BEGIN CMS-----")) or data[:1] == b"\x30":
        return "cms"
    return None


def _kind_for(media_type: str, data: bytes) -> Kind:
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaTypeError(media_type or "(none)")
    declared = MEDIA_TYPES[media_type]
    if declared == "asic":
        return "asic"  # an unreadable container gets a report (FORMAT_FAILURE), not a 400
    found = sniff(data)
    if found is None:
        raise UnparseableDocumentError("the body is not a PDF, XML, CMS or ASiC document")
    if declared is not None and declared != found:
        raise UnparseableDocumentError(f"the body does not look like {media_type}")
    return found


def parse_submission(content_type: str | None, body: bytes, *, max_parts: int = 16) -> Submission:
    """Turn the request body into a :class:`Submission` (signature + detached parts).

    Raises :class:`UnsupportedMediaTypeError` (→ 415) or an error kind that maps to 400.
    """
    media_type, params = parse_media_type(content_type)
    if not body:
        raise UnparseableDocumentError("the body is empty")
    if media_type != MULTIPART:
        return Submission(_kind_for(media_type, body), media_type, body)
    parts = parse_multipart(body, params.get("boundary", ""), max_parts=max_parts)
    signatures = [p for p in parts if p.name == "signature"]
    if len(signatures) != 1:
        raise MalformedMultipartError("a multipart body needs exactly one part named 'signature'")
    signature = signatures[0]
    detached = tuple(p for p in parts if p is not signature)
    if not detached:
        raise MalformedMultipartError("a multipart body needs at least one detached content part")
    labels = [p.label for p in detached]
    if len(set(labels)) != len(labels):
        raise MalformedMultipartError("detached parts need distinct names")
    part_type, _ = parse_media_type(signature.content_type)
    if not signature.data:
        raise UnparseableDocumentError("the signature part is empty")
    kind = _kind_for(part_type or "application/octet-stream", signature.data)
    if kind in ("pdf", "asic"):
        raise MalformedMultipartError("a PDF or ASiC container carries its own content; send it as the body")
    return Submission(kind, part_type or "application/octet-stream", signature.data, detached)


def parse_multipart(body: bytes, boundary: str, *, max_parts: int = 16) -> list[Part]:
    """RFC 7578 / RFC 2046 §5.1 multipart/form-data; strict (CRLF line ends, closing delimiter)."""
    if not boundary or not _BOUNDARY.match(boundary):
        raise MalformedMultipartError("missing or invalid multipart boundary")
    delimiter = b"--" + boundary.encode("ascii")
    if body.startswith(delimiter):
        position = 0
    else:
        found = body.find(b"\r\n" + delimiter)
        if found < 0:
            raise MalformedMultipartError("no multipart delimiter found")
        position = found + 2
    parts: list[Part] = []
    while True:
        position += len(delimiter)
        if body[position : position + 2] == b"--":
            break
        line_end = body.find(b"\r\n", position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise MalformedMultipartError("malformed multipart delimiter line")
        start = line_end + 2
        following = body.find(b"\r\n" + delimiter, start)
        if following < 0:
            raise MalformedMultipartError("multipart body has no closing delimiter")
        parts.append(_parse_part(body[start:following]))
        if len(parts) > max_parts:
            raise MalformedMultipartError(f"more than {max_parts} parts")
        position = following + 2
    if not parts:
        raise MalformedMultipartError("the multipart body has no parts")
    return parts


def _parse_part(raw: bytes) -> Part:
    if raw.startswith(b"\r\n"):
        header_block, data = b"", raw[2:]
    else:
        split = raw.find(b"\r\n\r\n")
        if split < 0:
            raise MalformedMultipartError("a part has no header/body separator")
        header_block, data = raw[:split], raw[split + 4 :]
    headers: dict[str, str] = {}
    for line in header_block.split(b"\r\n"):
        if not line:
            continue
        header_name, sep, header_value = line.partition(b":")
        if not sep or not header_name.strip():
            raise MalformedMultipartError("malformed part header")
        try:
            headers[header_name.strip().decode("ascii").lower()] = header_value.strip().decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedMultipartError("part headers must be UTF-8") from None
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise MalformedMultipartError("a part lacks Content-Disposition")
    message = email.message.Message()
    message["content-disposition"] = disposition
    if message.get_content_disposition() != "form-data":
        raise MalformedMultipartError("parts must be form-data")
    name = message.get_param("name", header="content-disposition")
    filename = message.get_param("filename", header="content-disposition")
    if not isinstance(name, str) or not name:
        raise MalformedMultipartError("a part lacks a name")
    if filename is not None and not isinstance(filename, str):
        raise MalformedMultipartError("invalid file name")
    encoding = headers.get("content-transfer-encoding", "binary").lower()
    if encoding == "base64":
        try:
            data = base64.b64decode(data, validate=False)
        except (binascii.Error, ValueError):
            raise MalformedMultipartError("invalid base64 part") from None
    elif encoding not in ("binary", "8bit", "7bit"):
        raise MalformedMultipartError(f"unsupported transfer encoding {encoding!r}")
    return Part(name=name, filename=filename or None, content_type=headers.get("content-type"), data=data)


def cms_der(data: bytes) -> bytes:
    """DER of a CMS structure given as DER/BER or PEM (``PKCS7``/``CMS`` armour)."""
    stripped = data.strip()
    if stripped.startswith(b"-----BEGIN "):
        lines = stripped.splitlines()
        if len(lines) < 3 or not lines[-1].startswith(b"-----END "):
            raise UnparseableDocumentError("truncated PEM", document_format="CAdES")
        try:
            return base64.b64decode(b"".join(lines[1:-1]), validate=True)
        except (binascii.Error, ValueError):
            raise UnparseableDocumentError("invalid PEM", document_format="CAdES") from None
    return data


def _read_header(data: bytes, position: int) -> tuple[int, int | None, int]:
    """(tag, length or None when indefinite, position after the header) of the element at ``position``."""
    size = len(data)
    tag = data[position]
    position += 1
    if tag & 0x1F == 0x1F:
        for _ in range(5):
            if position >= size:
                raise UnparseableDocumentError("truncated DER tag")
            more = data[position] & 0x80
            position += 1
            if not more:
                break
        else:
            raise UnparseableDocumentError("DER tag too long")
    if position >= size:
        raise UnparseableDocumentError("truncated DER length")
    first = data[position]
    position += 1
    if first == 0x80:
        return tag, None, position
    if first & 0x80:
        count = first & 0x7F
        if count > 4 or position + count > size:
            raise UnparseableDocumentError("invalid DER length")
        return tag, int.from_bytes(data[position : position + count], "big"), position + count
    return tag, first, position


def check_der_nesting(data: bytes, *, max_depth: int = MAX_DER_DEPTH) -> None:
    """Walk the first BER/DER element iteratively: lengths must fit, nesting ≤ ``max_depth``.

    Raises :class:`UnparseableDocumentError` on truncation or excessive nesting (X.690 §8.1).
    """
    size = len(data)
    ends: list[int | None] = []  # end offsets of open constructed values; None = indefinite length
    position = 0
    started = False
    while True:
        while ends and ends[-1] is not None and position >= ends[-1]:
            if position > ends[-1]:  # type: ignore[operator]
                raise UnparseableDocumentError("inconsistent DER lengths")
            ends.pop()
        if started and not ends:
            return
        if position >= size:
            raise UnparseableDocumentError("truncated DER")
        if data[position] == 0 and position + 1 < size and data[position + 1] == 0 and ends and ends[-1] is None:
            ends.pop()
            position += 2
            continue
        started = True
        tag, length, position = _read_header(data, position)
        limit = next((e for e in reversed(ends) if e is not None), size)
        if tag & 0x20:
            end = None if length is None else position + length
            if end is not None and end > limit:
                raise UnparseableDocumentError("truncated DER")
            ends.append(end)
            if len(ends) > max_depth:
                raise UnparseableDocumentError("ASN.1 nesting too deep")
        else:
            if length is None:
                raise UnparseableDocumentError("indefinite length on a primitive value")
            position += length
            if position > limit:
                raise UnparseableDocumentError("truncated DER")
