"""The citizen's packer and signer: ASiC-E e-packages with detached XAdES (B-B, B-T),
counter-signatures on XAdES and CAdES signatures already in a package, a Python API for the
portal and the ``sekap-package`` command (works without a server)."""

from epackage.api import EntryInfo, inspect, pack_and_sign, sign_package
from epackage.countersign import counter_sign_package
from epackage.errors import EPackageError, PackingError, SigningError, TimestampError
from epackage.pack import add_file, data_files, open_package, pack, replace_file
from epackage.signer import Signer, from_pkcs11, from_pkcs12
from epackage.timestamp import HTTPTimestamper
from epackage.verify import verify_offline

__all__ = [
    "EPackageError",
    "EntryInfo",
    "HTTPTimestamper",
    "PackingError",
    "Signer",
    "SigningError",
    "TimestampError",
    "add_file",
    "counter_sign_package",
    "data_files",
    "from_pkcs11",
    "from_pkcs12",
    "inspect",
    "open_package",
    "pack",
    "pack_and_sign",
    "replace_file",
    "sign_package",
    "verify_offline",
]
