"""What an ASiC container holds (EN 319 162-1 §4.4, §A.1): mimetype, data files, signature
files and ASiCManifest files, classified by name from an already checked :class:`ZipArchive`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifier.asic.model import MIMETYPE_E, MIMETYPE_S, MimetypeInfo
from verifier.asic.zipread import ZipArchive

META_INF = "META-INF/"
# EN 319 162-1 §4.4.3.2 / §4.4.3.3 (ASiC-E) and §4.3.3 (ASiC-S) file names.
XADES_NAME = re.compile(r"^META-INF/[^/]*signatures[^/]*\.xml$")
CADES_NAME = re.compile(r"^META-INF/[^/]*signature[^/]*\.p7s$")
MANIFEST_NAME = re.compile(r"^META-INF/ASiCManifest[^/]*\.xml$")
TIMESTAMP_NAME = re.compile(r"^META-INF/[^/]*timestamp[^/]*\.tst$")


@dataclass(frozen=True)
class Container:
    kind: str  # "ASiC-E" | "ASiC-S"
    mimetype: MimetypeInfo
    data_files: dict[str, bytes]
    xades_files: dict[str, bytes]
    cades_files: dict[str, bytes]
    manifests: dict[str, bytes]
    unsupported: tuple[str, ...]


def classify(archive: ZipArchive) -> Container:
    data: dict[str, bytes] = {}
    xades: dict[str, bytes] = {}
    cades: dict[str, bytes] = {}
    manifests: dict[str, bytes] = {}
    unsupported: list[str] = []
    for name, content in archive.contents.items():
        if name == "mimetype":
            continue
        if not name.startswith(META_INF):
            data[name] = content
        elif XADES_NAME.match(name):
            xades[name] = content
        elif CADES_NAME.match(name):
            cades[name] = content
        elif MANIFEST_NAME.match(name):
            manifests[name] = content
        elif TIMESTAMP_NAME.match(name):
            unsupported.append(name)
        # Other META-INF files (ODF manifest.xml, container.xml, metadata) carry no data.
    mimetype = mimetype_info(archive)
    if mimetype.value == MIMETYPE_S:
        kind = "ASiC-S"
    elif mimetype.value == MIMETYPE_E or manifests or len(data) != 1:
        kind = "ASiC-E"
    else:
        kind = "ASiC-S"
    return Container(kind, mimetype, data, xades, cades, manifests, tuple(unsupported))


def mimetype_info(archive: ZipArchive) -> MimetypeInfo:
    """EN 319 162-1 §A.1: the ``mimetype`` file is first, stored uncompressed, without an extra
    field, and names an ASiC media type. An extra field is reported, not refused: common ZIP
    tools add one and it changes nothing a reader relies on."""
    entry = next((e for e in archive.entries if e.name == "mimetype"), None)
    if entry is None:
        return MimetypeInfo(present=False, problems=("no mimetype entry (the container type is inferred)",))
    value = archive.contents.get("mimetype", b"").decode("ascii", errors="replace")
    first = archive.first() is entry and entry.offset == 0
    stored = entry.method == 0
    problems = []
    if not first:
        problems.append("mimetype is not the first entry of the container")
    if not stored:
        problems.append("mimetype is compressed (it must be stored)")
    if value not in (MIMETYPE_E, MIMETYPE_S):
        problems.append(f"mimetype is {value[:80]!r}, not an ASiC media type")
    return MimetypeInfo(
        present=True,
        value=value[:200],
        first=first,
        stored=stored,
        extra_field=bool(entry.local_extra_length),
        problems=tuple(problems),
    )
