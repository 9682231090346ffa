"""The package part of a validation report: per file and per signature file (EN 319 162-1)."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.report import Indication, SubIndication

MIMETYPE_E = "application/vnd.etsi.asic-e+zip"
MIMETYPE_S = "application/vnd.etsi.asic-s+zip"


@dataclass(frozen=True)
class MimetypeInfo:
    """The ``mimetype`` entry (EN 319 162-1 §A.1): first in the file, stored, no extra field."""

    present: bool
    value: str | None = None
    first: bool = False
    stored: bool = False
    extra_field: bool = False
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignatureFileInfo:
    """One signature file in ``META-INF/`` and what it covers (data files by name)."""

    name: str
    format: str  # "XAdES" | "CAdES"
    signature_ids: tuple[str, ...]
    covers: tuple[str, ...]
    manifest: str | None = None
    counter_signatures: int = 0
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileCoverage:
    """A data file: which signatures cover it and whether at least one of them passed."""

    name: str
    size: int
    sha256: str
    covered_by: tuple[str, ...]
    valid_signatures: tuple[str, ...]
    indication: Indication
    sub_indication: SubIndication | None = None
    reason: str | None = None


@dataclass(frozen=True)
class PackageInfo:
    """``container`` is ``ASiC-E``, ``ASiC-S`` or ``null`` when the ZIP could not be read."""

    container: str | None
    mimetype: MimetypeInfo
    files: tuple[FileCoverage, ...] = ()
    signature_files: tuple[SignatureFileInfo, ...] = ()
    not_covered: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
