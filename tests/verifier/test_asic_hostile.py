"""Hostile ZIP/ASiC containers (REFERENCE "Attacks a verifier must resist"; EN 319 162-1 §A.1;
APPNOTE 6.3.x): each gets a clear FORMAT_FAILURE report, quickly, in bounded memory, with
nothing written to disk."""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import struct
import time
import tracemalloc
import warnings
import zipfile
import zlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.asic.model import MIMETYPE_E
from verifier.asic.zipread import ZipFormatError, ZipLimits, read_zip

ASIC_E = MIMETYPE_E
MIB = 1024 * 1024


def build(entries: list[tuple[str, bytes, int]], *, flag_bits: int = 0) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we mean to write
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data, method in entries:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = method
                info.flag_bits |= flag_bits
                archive.writestr(info, data)
    return buffer.getvalue()


def asic(*extra: tuple[str, bytes, int]) -> bytes:
    return build([("mimetype", ASIC_E.encode(), zipfile.ZIP_STORED), *extra])


DEFLATE = zipfile.ZIP_DEFLATED
STORED = zipfile.ZIP_STORED


def zip_slip() -> bytes:
    return asic(("../../etc/cron.d/evil", b"x", DEFLATE))


def absolute_name() -> bytes:
    return asic(("/etc/passwd", b"x", DEFLATE))


def backslash_name() -> bytes:
    return asic(("..\\..\\evil.xml", b"x", DEFLATE))


def drive_name() -> bytes:
    return asic(("C:/evil.xml", b"x", DEFLATE))


def duplicate_names() -> bytes:
    return asic(("a.xml", b"<a/>", DEFLATE), ("a.xml", b"<b/>", DEFLATE))


def case_duplicates() -> bytes:
    return asic(("Wniosek.xml", b"<a/>", DEFLATE), ("wniosek.xml", b"<b/>", DEFLATE))


def header_mismatch() -> bytes:
    """The local header names another file than the central directory (a parser-differential trick)."""
    data = bytearray(asic(("good.xml", b"<a/>", DEFLATE)))
    position = data.index(b"PK\x03\x04good.xml"[:4], 10)  # the second local header
    name_at = position + 30
    assert bytes(data[name_at : name_at + 8]) == b"good.xml"
    data[name_at : name_at + 8] = b"evil.xml"
    return bytes(data)


def size_mismatch_in_local_header() -> bytes:
    data = bytearray(asic(("good.xml", b"<a/>" * 10, DEFLATE)))
    position = data.index(b"PK\x03\x04", 10)
    struct.pack_into("<I", data, position + 22, 999)  # uncompressed size in the local header only
    return bytes(data)


def mimetype_not_first() -> bytes:
    return build([("a.xml", b"<a/>", DEFLATE), ("mimetype", ASIC_E.encode(), STORED)])


def mimetype_compressed() -> bytes:
    return build([("mimetype", ASIC_E.encode(), DEFLATE), ("a.xml", b"<a/>", DEFLATE)])


def _set_flags(data: bytearray, name: bytes, bits: int) -> None:
    """Set general-purpose flag bits of ``name`` in both its local and its central header."""
    for signature, flags_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        position = data.find(signature)
        while data[position + name_at : position + name_at + len(name)] != name:
            position = data.find(signature, position + 4)
        flags = struct.unpack_from("<H", data, position + flags_at)[0]
        struct.pack_into("<H", data, position + flags_at, flags | bits)


def encrypted_entry() -> bytes:
    data = bytearray(asic(("a.xml", b"<a/>", STORED)))
    _set_flags(data, b"a.xml", 0x1)
    return bytes(data)


def nested_container() -> bytes:
    return asic(("inner.asice", asic(("a.xml", b"<a/>", DEFLATE)), DEFLATE))


def ratio_bomb() -> bytes:
    """8 MiB of zeros deflate to ~8 KiB (ratio ~1000); refused before inflating."""
    return asic(("bomb.bin", bytes(8 * MIB), DEFLATE))


def lying_size_bomb() -> bytes:
    """The headers declare 50 times the compressed size (within the ratio) but the stream inflates
    to 8 MiB: inflation stops one byte past the declared size."""
    data = bytearray(asic(("bomb.bin", bytes(8 * MIB), DEFLATE)))
    for signature, sizes_at, name_at in ((b"PK\x03\x04", 18, 30), (b"PK\x01\x02", 20, 46)):
        position = data.find(signature)
        while data[position + name_at : position + name_at + 8] != b"bomb.bin":
            position = data.find(signature, position + 4)
        compressed = struct.unpack_from("<I", data, position + sizes_at)[0]
        struct.pack_into("<I", data, position + sizes_at + 4, compressed * 50)
    return bytes(data)


def too_many_entries() -> bytes:
    return asic(*[(f"f{i}.txt", b"", STORED) for i in range(1001)])


def too_large_in_total() -> bytes:
    """Random (incompressible) data: 70 MiB declared in total over the 64 MiB default."""
    chunk = os.urandom(MIB)
    return asic(*[(f"part{i}.bin", chunk, STORED) for i in range(70)])


def truncated() -> bytes:
    return asic(("a.xml", b"<a/>", DEFLATE))[:-30]


def not_a_zip() -> bytes:
    return b"PK\x03\x04" + b"\x00" * 100


def overlapping_entries() -> bytes:
    """Two central entries pointing at one local header (the non-recursive 'overlap' bomb)."""
    data = bytearray(asic(("a.xml", b"<a/>" * 100, DEFLATE), ("b.xml", b"<a/>" * 100, DEFLATE)))
    central = [i for i in range(len(data)) if data[i : i + 4] == b"PK\x01\x02"]
    first_offset = struct.unpack_from("<I", data, central[1] + 42)[0]
    struct.pack_into("<I", data, central[2] + 42, first_offset)
    return bytes(data)


CASES: list[tuple[str, Callable[[], bytes], str]] = [
    ("zip-slip", zip_slip, "path_traversal"),
    ("absolute", absolute_name, "absolute_path"),
    ("backslash", backslash_name, "absolute_path"),
    ("drive-letter", drive_name, "absolute_path"),
    ("duplicate", duplicate_names, "duplicate_name"),
    ("case-duplicate", case_duplicates, "duplicate_name"),
    ("local-central-name", header_mismatch, "header_mismatch"),
    ("local-central-size", size_mismatch_in_local_header, "header_mismatch"),
    ("encrypted", encrypted_entry, "encrypted"),
    ("nested", nested_container, "nested_container"),
    ("ratio-bomb", ratio_bomb, "compression_ratio"),
    ("lying-size-bomb", lying_size_bomb, "size_mismatch"),
    ("too-many-entries", too_many_entries, "too_many_entries"),
    ("too-large", too_large_in_total, "too_large"),
    ("truncated", truncated, "not_zip"),
    ("not-a-zip", not_a_zip, "not_zip"),
    ("overlap", overlapping_entries, "header_mismatch"),
]


@pytest.mark.parametrize(("builder", "reason"), [(b, r) for _, b, r in CASES], ids=[c[0] for c in CASES])
def test_reader_refuses(builder: Callable[[], bytes], reason: str) -> None:
    with pytest.raises(ZipFormatError) as caught:
        read_zip(builder(), ZipLimits())
    assert caught.value.reason == reason, str(caught.value)


class _NoWrites:
    """Fails the test if anything opens a file for writing while the container is verified."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_open, real_os_open = builtins.open, os.open

        def guarded_open(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
            if any(flag in mode for flag in "wax+"):
                raise AssertionError(f"write to {file!r} during verification")
            return real_open(file, mode, *args, **kwargs)

        def guarded_os_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise AssertionError(f"write to {path!r} during verification")
            return real_os_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded_open)
        monkeypatch.setattr(os, "open", guarded_os_open)


@pytest.mark.parametrize("builder", [b for _, b, _ in CASES], ids=[c[0] for c in CASES])
def test_service_answers_format_failure_fast_in_bounded_memory(verify, monkeypatch, builder) -> None:
    body = builder()
    verify(asic(("warm.xml", b"<a/>", DEFLATE)), ASIC_E)  # warm imports and caches outside the measurement
    _NoWrites(monkeypatch)
    tracemalloc.start()
    started = time.perf_counter()
    report = verify(body, ASIC_E)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    monkeypatch.undo()
    assert (report.indication, report.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE"), report.to_dict()
    assert report.package is not None and report.package.container is None
    assert report.package.problems
    assert elapsed < 1.0, elapsed
    assert peak < 50 * MIB, peak


@pytest.mark.parametrize(
    ("builder", "problem"),
    [(mimetype_not_first, "not the first entry"), (mimetype_compressed, "compressed")],
    ids=["mimetype-not-first", "mimetype-compressed"],
)
def test_mimetype_rules(verify, builder, problem) -> None:
    """EN 319 162-1 §A.1: mimetype first and stored; the report says which rule broke."""
    report = verify(builder(), ASIC_E)
    assert (report.indication, report.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert any(problem in p for p in report.package.mimetype.problems)
    assert any(problem in p for p in report.package.problems)


def test_nesting_allowed_by_setting_still_checks_the_inner_container() -> None:
    assert read_zip(nested_container(), ZipLimits(max_nesting=1)).contents["inner.asice"]
    deeper = asic(("outer.zip", nested_container(), DEFLATE))
    with pytest.raises(ZipFormatError, match=r"inner\.asice"):
        read_zip(deeper, ZipLimits(max_nesting=1))


def test_small_well_compressed_entries_are_fine() -> None:
    """The ratio limit applies above 64 KiB: a short text of spaces is no bomb."""
    archive = read_zip(asic(("spaces.txt", b" " * 60000, DEFLATE)), ZipLimits())
    assert len(archive.contents["spaces.txt"]) == 60000


def test_limits_are_validated() -> None:
    from core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="asic_max_ratio"):
        ZipLimits(max_ratio=1)
    assert zlib  # the deflate engine the reader bounds


VALID = asic(("a.xml", b"<a>" + b"x" * 300 + b"</a>", DEFLATE), ("b.txt", b"hello", STORED))


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000))
def test_reader_raises_only_its_own_error_on_any_bytes(data: bytes) -> None:
    """Hypothesis: arbitrary input either reads or raises ZipFormatError (never struct/zlib errors)."""
    with contextlib.suppress(ZipFormatError):
        read_zip(b"PK\x03\x04" + data, ZipLimits())


@settings(max_examples=400, deadline=None)
@given(position=st.integers(min_value=0, max_value=len(VALID) - 1), value=st.integers(0, 255))
def test_reader_survives_every_single_byte_change(position: int, value: int) -> None:
    mutated = bytearray(VALID)
    mutated[position] = value
    try:
        archive = read_zip(bytes(mutated), ZipLimits())
    except ZipFormatError:
        return
    # A change the reader accepts can only be in bytes it does not rely on (times, attributes,
    # the name of an entry in both headers at once is impossible with one byte): contents intact.
    assert archive.contents.get("b.txt") == b"hello"


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(VALID)))
def test_reader_refuses_every_truncation(cut: int) -> None:
    if cut == len(VALID):
        assert read_zip(VALID, ZipLimits()).contents["b.txt"] == b"hello"
        return
    with pytest.raises(ZipFormatError):
        read_zip(VALID[:cut], ZipLimits())
