"""The packer's Python API for the portal and the command: pack, sign, add a signature,
inspect, verify offline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from epackage.errors import SigningError
from epackage.pack import add_file, data_files, next_signature_name, open_package, pack
from epackage.signer import Signer
from epackage.xades import Timestamper, build_signature


def sign_package(
    container: bytes, signer: Signer, *, timestamper: Timestamper | None = None, at: datetime | None = None
) -> bytes:
    """``container`` with one more XAdES signature over all its data files (B-B, or B-T with a
    ``timestamper``). Works for the first signer and for each further one (add-signature)."""
    entries = open_package(container)
    files = data_files(entries)
    if not files:
        raise SigningError("the container holds no data file to sign")
    signing_time = (at or datetime.now(UTC)).astimezone(UTC)
    signature = build_signature(files, signer, signing_time, timestamper)
    return add_file(container, next_signature_name(entries), signature)


def pack_and_sign(
    files: dict[str, bytes], signer: Signer, *, timestamper: Timestamper | None = None, at: datetime | None = None
) -> bytes:
    return sign_package(pack(files), signer, timestamper=timestamper, at=at)


@dataclass(frozen=True)
class EntryInfo:
    name: str
    size: int
    role: str  # "mimetype" | "data" | "signature" | "manifest" | "other"


def inspect(container: bytes) -> list[EntryInfo]:
    """What the container holds, without validating any signature."""
    result = []
    for name, content in open_package(container).items():
        if name == "mimetype":
            role = "mimetype"
        elif not name.startswith("META-INF/"):
            role = "data"
        elif "signature" in name:
            role = "signature"
        elif "Manifest" in name or "manifest" in name:
            role = "manifest"
        else:
            role = "other"
        result.append(EntryInfo(name, len(content), role))
    return result
