"""ASiC containers (ETSI EN 319 162-1): a safe in-memory ZIP reader, the container's structure
and the package policy (every data file covered by a valid signature).

Only the reader and the report model are re-exported here: :mod:`verifier.settings` needs the
limits, and importing the validators would pull in the whole verifier.
"""

from verifier.asic.model import MIMETYPE_E, MIMETYPE_S, FileCoverage, MimetypeInfo, PackageInfo, SignatureFileInfo
from verifier.asic.zipread import ZipArchive, ZipEntry, ZipFormatError, ZipLimits, looks_like_zip, read_zip

__all__ = [
    "MIMETYPE_E",
    "MIMETYPE_S",
    "FileCoverage",
    "MimetypeInfo",
    "PackageInfo",
    "SignatureFileInfo",
    "ZipArchive",
    "ZipEntry",
    "ZipFormatError",
    "ZipLimits",
    "looks_like_zip",
    "read_zip",
]
