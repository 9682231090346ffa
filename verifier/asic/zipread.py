"""A strict, in-memory ZIP reader for untrusted containers (APPNOTE 6.3.x, EN 319 162-1 Annex A).

Nothing is extracted to disk and nothing is decompressed before the whole central directory has
been checked against the limits: entry count, total declared uncompressed size, per-entry
compression ratio, names (no ``..``, absolute, drive or backslash paths; no duplicates, also
not by case), local headers agreeing with the central directory, entries not overlapping
(the overlapping-entry bomb), no encryption, only *stored* and *deflate*, no ZIP64, no
multi-disk archives. Decompression is bounded by the declared size, and the result must match
that size and the CRC-32, so a header that lies about sizes cannot make the reader expand more
than the limits allow.
"""

from __future__ import annotations

import struct
import unicodedata
import zlib
from dataclasses import dataclass

from core.errors import ConfigurationError

_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_ZIP64_EOCD_LOCATOR = b"PK\x06\x07"
_EOCD_SIZE = 22
_CENTRAL_SIZE = 46
_LOCAL_SIZE = 30
_MAX_COMMENT = 0xFFFF
_FLAG_ENCRYPTED = 0x0001
_FLAG_DESCRIPTOR = 0x0008
_FLAG_STRONG_ENCRYPTION = 0x0040
_FLAG_UTF8 = 0x0800
_STORED = 0
_DEFLATED = 8
_ZIP_MAGICS = (_LOCAL, _EOCD)


class ZipFormatError(ValueError):
    """The container cannot be read safely; ``reason`` is a short code, the message says why."""

    def __init__(self, reason: str, message: str, *, name: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.name = name


@dataclass(frozen=True)
class ZipLimits:
    """Bounds for one container (``[verifier]`` ``asic_*`` settings)."""

    max_entries: int = 1000
    max_total_bytes: int = 64 * 1024 * 1024
    max_ratio: int = 100
    # Small entries compress well by nature (a page of spaces); the ratio applies above this size.
    ratio_threshold_bytes: int = 64 * 1024
    max_nesting: int = 0
    max_name_bytes: int = 1024

    def __post_init__(self) -> None:
        if not 1 <= self.max_entries <= 100_000:
            raise ConfigurationError("verifier.asic_max_entries", "must be between 1 and 100000")
        if not 1024 <= self.max_total_bytes <= 1024 * 1024 * 1024:
            raise ConfigurationError("verifier.asic_max_total_bytes", "must be between 1 KiB and 1 GiB")
        if not 2 <= self.max_ratio <= 10_000:
            raise ConfigurationError("verifier.asic_max_ratio", "must be between 2 and 10000")
        if not 0 <= self.max_nesting <= 3:
            raise ConfigurationError("verifier.asic_max_nesting", "must be between 0 and 3")


@dataclass(frozen=True)
class ZipEntry:
    name: str
    method: int
    compressed_size: int
    size: int
    crc32: int
    offset: int
    data_offset: int
    local_extra_length: int
    index: int

    @property
    def is_directory(self) -> bool:
        return self.name.endswith("/")


@dataclass(frozen=True)
class ZipArchive:
    """The checked directory and the decompressed contents, in central-directory order."""

    entries: tuple[ZipEntry, ...]
    contents: dict[str, bytes]

    def first(self) -> ZipEntry | None:
        """The entry stored first in the file (lowest local header offset)."""
        return min(self.entries, key=lambda e: e.offset) if self.entries else None


def looks_like_zip(data: bytes) -> bool:
    return data[:4] in _ZIP_MAGICS


def read_zip(data: bytes, limits: ZipLimits, *, depth: int = 0) -> ZipArchive:
    """Check and read ``data``; raises :class:`ZipFormatError` on anything unsafe or malformed."""
    count, cd_offset, cd_size = _end_of_central_directory(data)
    if count > limits.max_entries:
        raise ZipFormatError("too_many_entries", f"the container holds {count} entries (limit {limits.max_entries})")
    entries = _central_directory(data, count, cd_offset, cd_size, limits)
    _check_names(entries)
    _check_layout(entries, cd_offset)
    total = sum(e.size for e in entries)
    if total > limits.max_total_bytes:
        raise ZipFormatError("too_large", f"the entries expand to {total} bytes (limit {limits.max_total_bytes})")
    contents: dict[str, bytes] = {}
    for entry in entries:
        if entry.is_directory:
            continue
        content = _inflate(data, entry)
        if looks_like_zip(content):
            if depth >= limits.max_nesting:
                raise ZipFormatError("nested_container", f"{entry.name} is itself a ZIP container", name=entry.name)
            read_zip(content, limits, depth=depth + 1)
        contents[entry.name] = content
    return ZipArchive(tuple(entries), contents)


def _end_of_central_directory(data: bytes) -> tuple[int, int, int]:
    start = max(0, len(data) - _EOCD_SIZE - _MAX_COMMENT)
    position = data.rfind(_EOCD, start)
    while position >= 0:
        if position + _EOCD_SIZE <= len(data):
            comment_length = struct.unpack_from("<H", data, position + 20)[0]
            if position + _EOCD_SIZE + comment_length == len(data):
                break
        position = data.rfind(_EOCD, start, position)
    if position < 0:
        raise ZipFormatError("not_zip", "no ZIP end-of-central-directory record")
    disk, cd_disk, disk_count, count, cd_size, cd_offset = struct.unpack_from("<HHHHII", data, position + 4)
    if disk or cd_disk or disk_count != count:
        raise ZipFormatError("multi_disk", "multi-disk archives are not accepted")
    if (
        count == 0xFFFF
        or cd_size == 0xFFFFFFFF
        or cd_offset == 0xFFFFFFFF
        or data.rfind(_ZIP64_EOCD_LOCATOR, max(0, position - 20), position) >= 0
    ):
        raise ZipFormatError("zip64", "ZIP64 archives are not accepted")
    if cd_offset + cd_size != position:
        raise ZipFormatError("layout", "the central directory does not end where the end record starts")
    return count, cd_offset, cd_size


def _central_directory(data: bytes, count: int, cd_offset: int, cd_size: int, limits: ZipLimits) -> list[ZipEntry]:
    entries: list[ZipEntry] = []
    position = cd_offset
    end = cd_offset + cd_size
    for index in range(count):
        if position + _CENTRAL_SIZE > end or data[position : position + 4] != _CENTRAL:
            raise ZipFormatError("layout", "truncated or corrupt central directory")
        (flags, method, crc, compressed, size, name_length, extra_length, comment_length) = struct.unpack_from(
            "<HH4xIIIHHH", data, position + 8
        )
        local_offset = struct.unpack_from("<I", data, position + 42)[0]
        raw_name = data[position + _CENTRAL_SIZE : position + _CENTRAL_SIZE + name_length]
        position += _CENTRAL_SIZE + name_length + extra_length + comment_length
        if position > end:
            raise ZipFormatError("layout", "truncated central directory entry")
        name = _decode_name(raw_name, flags, limits)
        if flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION):
            raise ZipFormatError("encrypted", f"{name} is encrypted", name=name)
        if method not in (_STORED, _DEFLATED):
            raise ZipFormatError("compression", f"{name} uses compression method {method}", name=name)
        if method == _STORED and compressed != size:
            raise ZipFormatError("layout", f"{name} is stored but its sizes differ", name=name)
        if size > limits.ratio_threshold_bytes and size > compressed * limits.max_ratio:
            raise ZipFormatError(
                "compression_ratio",
                f"{name} expands {size} bytes from {compressed} (ratio limit {limits.max_ratio})",
                name=name,
            )
        entry = _local_header(data, name, raw_name, flags, method, crc, compressed, size, local_offset, index)
        entries.append(entry)
    if position != end:
        raise ZipFormatError("layout", "the central directory holds more than its entries")
    return entries


def _decode_name(raw: bytes, flags: int, limits: ZipLimits) -> str:
    if not raw or len(raw) > limits.max_name_bytes:
        raise ZipFormatError("name", "an entry has an empty or overlong name")
    try:
        name = raw.decode("utf-8") if flags & _FLAG_UTF8 else raw.decode("ascii")
    except UnicodeDecodeError:
        raise ZipFormatError("name", "an entry name is not valid UTF-8 (or ASCII without the UTF-8 flag)") from None
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ZipFormatError("name", "an entry name holds control characters")
    if name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise ZipFormatError("absolute_path", f"{name!r} is an absolute or non-portable path", name=name)
    parts = name.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ZipFormatError("path_traversal", f"{name!r} has an empty, '.' or '..' path segment", name=name)
    return name


def _local_header(
    data: bytes,
    name: str,
    raw_name: bytes,
    flags: int,
    method: int,
    crc: int,
    compressed: int,
    size: int,
    offset: int,
    index: int,
) -> ZipEntry:
    if offset + _LOCAL_SIZE > len(data) or data[offset : offset + 4] != _LOCAL:
        raise ZipFormatError("header_mismatch", f"no local header for {name}", name=name)
    (l_flags, l_method, l_crc, l_compressed, l_size, l_name_length, l_extra_length) = struct.unpack_from(
        "<2xHH4xIIIHH", data, offset + 4
    )
    l_name = data[offset + _LOCAL_SIZE : offset + _LOCAL_SIZE + l_name_length]
    mismatch = l_name != raw_name or l_method != method or (l_flags ^ flags) & (_FLAG_ENCRYPTED | _FLAG_DESCRIPTOR)
    if not mismatch and not l_flags & _FLAG_DESCRIPTOR:
        mismatch = (l_crc, l_compressed, l_size) != (crc, compressed, size)
    if mismatch:
        raise ZipFormatError(
            "header_mismatch", f"the local header of {name} disagrees with the central directory", name=name
        )
    data_offset = offset + _LOCAL_SIZE + l_name_length + l_extra_length
    if data_offset + compressed > len(data):
        raise ZipFormatError("layout", f"{name} runs past the end of the container", name=name)
    return ZipEntry(name, method, compressed, size, crc, offset, data_offset, l_extra_length, index)


def _check_names(entries: list[ZipEntry]) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        key = unicodedata.normalize("NFC", entry.name.rstrip("/")).casefold()
        if key in seen:
            raise ZipFormatError(
                "duplicate_name", f"{entry.name!r} appears twice (or differs only in case)", name=entry.name
            )
        seen[key] = entry.name


def _check_layout(entries: list[ZipEntry], cd_offset: int) -> None:
    """Entries may not overlap one another or the central directory (overlapping-entry bombs)."""
    position = 0
    for entry in sorted(entries, key=lambda e: e.offset):
        if entry.offset < position:
            raise ZipFormatError("overlap", f"{entry.name} overlaps another entry", name=entry.name)
        position = entry.data_offset + entry.compressed_size
    if position > cd_offset:
        raise ZipFormatError("overlap", "an entry overlaps the central directory")


def _inflate(data: bytes, entry: ZipEntry) -> bytes:
    raw = data[entry.data_offset : entry.data_offset + entry.compressed_size]
    if entry.method == _STORED:
        content = raw
    else:
        inflater = zlib.decompressobj(-15)
        try:
            content = inflater.decompress(raw, entry.size + 1)
        except zlib.error:
            raise ZipFormatError("corrupt", f"{entry.name} does not inflate", name=entry.name) from None
        if len(content) != entry.size or not inflater.eof:
            raise ZipFormatError("size_mismatch", f"{entry.name} does not expand to its declared size", name=entry.name)
    if len(content) != entry.size or zlib.crc32(content) != entry.crc32:
        raise ZipFormatError("crc", f"the CRC-32 of {entry.name} does not match", name=entry.name)
    return content
