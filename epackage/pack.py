"""Packing files into an ASiC-E container (ETSI EN 319 162-1 §4.4, Annex A) and adding
signature files to one, entirely in memory.

The ``mimetype`` entry is written first, stored, without an extra field; data files are
deflated; names follow the same rules the verifier enforces (no ``..``, no absolute paths, no
duplicates, nothing under ``META-INF/``).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping

from epackage.errors import PackingError
from verifier.asic import MIMETYPE_E, ZipFormatError, ZipLimits, read_zip

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SIGNATURE_FILE = re.compile(r"^META-INF/signatures(\d+)\.xml$")
# What the packer itself reads back: generous, but still bounded.
PACKER_LIMITS = ZipLimits(max_entries=10_000, max_total_bytes=512 * 1024 * 1024, max_ratio=1000)


def check_name(name: str) -> str:
    """A data file name as stored in the container, or :class:`PackingError` saying why not."""
    name = unicodedata.normalize("NFC", name)
    if not name or name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise PackingError(f"{name!r} is not a relative path")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise PackingError(f"{name!r} has an empty, '.' or '..' segment")
    if name == "mimetype" or name.startswith("META-INF/"):
        raise PackingError(f"{name!r} is reserved by the container format")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise PackingError(f"{name!r} holds control characters")
    return name


def _entry(name: str, method: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = method
    info.external_attr = 0o644 << 16
    return info


def manifest_xml(names: list[str]) -> bytes:
    """``META-INF/manifest.xml`` (OpenDocument manifest, EN 319 162-1 §A.2.2): optional in ASiC-E
    but expected by BDOC/DigiDoc-family tools (pyasice refuses containers without it)."""
    from xml.sax.saxutils import quoteattr

    from epackage.xades import media_type

    entries = "".join(
        f"<manifest:file-entry manifest:full-path={quoteattr(n)} manifest:media-type={quoteattr(media_type(n))}/>"
        for n in names
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{MIMETYPE_E}"/>{entries}</manifest:manifest>'
    ).encode()


def pack(files: Mapping[str, bytes]) -> bytes:
    """An unsigned ASiC-E container holding ``files`` (name → content), in the given order, with
    an OpenDocument manifest listing them."""
    if not files:
        raise PackingError("an e-package needs at least one file")
    names = [check_name(n) for n in files]
    folded = [n.casefold() for n in names]
    if len(set(folded)) != len(folded):
        raise PackingError("file names must be distinct (also ignoring case)")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry("mimetype", zipfile.ZIP_STORED), MIMETYPE_E.encode("ascii"))
        for name, content in zip(names, files.values(), strict=True):
            archive.writestr(_entry(name, zipfile.ZIP_DEFLATED), content)
        archive.writestr(_entry("META-INF/manifest.xml", zipfile.ZIP_DEFLATED), manifest_xml(names))
    return buffer.getvalue()


def open_package(data: bytes) -> dict[str, bytes]:
    """The entries of a container (checked like the verifier checks them), in stored order."""
    try:
        archive = read_zip(data, PACKER_LIMITS)
    except ZipFormatError as exc:
        raise PackingError(f"not a readable container: {exc}") from None
    return {
        e.name: archive.contents[e.name] for e in sorted(archive.entries, key=lambda e: e.offset) if not e.is_directory
    }


def data_files(entries: Mapping[str, bytes]) -> dict[str, bytes]:
    return {n: c for n, c in entries.items() if n != "mimetype" and not n.startswith("META-INF/")}


def next_signature_name(entries: Mapping[str, bytes]) -> str:
    """``META-INF/signaturesN.xml`` with N one above the highest present (EN 319 162-1 §4.4.3.2)."""
    numbers = [int(m.group(1)) for n in entries if (m := _SIGNATURE_FILE.match(n))]
    return f"META-INF/signatures{max(numbers, default=-1) + 1}.xml"


def add_file(container: bytes, name: str, content: bytes) -> bytes:
    """``container`` with one more entry (a signature file), everything else copied unchanged."""
    entries = open_package(container)
    if name in entries:
        raise PackingError(f"{name} is already in the container")
    return _rewrite(entries, {**entries, name: content})


def replace_file(container: bytes, name: str, content: bytes) -> bytes:
    """``container`` with the entry ``name`` (a signature file given a counter-signature)
    holding ``content``, everything else copied unchanged and in the same order."""
    entries = open_package(container)
    if name not in entries:
        raise PackingError(f"{name} is not in the container")
    return _rewrite(entries, {**entries, name: content})


def _rewrite(entries: Mapping[str, bytes], new: Mapping[str, bytes]) -> bytes:
    if entries and next(iter(entries)) != "mimetype":
        raise PackingError("the container does not start with its mimetype entry")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for existing, data in new.items():
            method = zipfile.ZIP_STORED if existing == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(_entry(existing, method), data)
    return buffer.getvalue()
