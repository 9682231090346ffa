"""Errors of the packer and signer."""

from __future__ import annotations

from core.errors import BadRequestError, SekapError


class EPackageError(SekapError):
    """Root of the packer's errors."""

    code = "epackage_error"


class PackingError(EPackageError, BadRequestError):
    """Files cannot be packed (bad or duplicate name, empty package)."""

    code = "packing_error"


class SigningError(EPackageError):
    """The package cannot be signed (key, certificate or container problem)."""

    code = "signing_error"


class TimestampError(EPackageError):
    """The time-stamping authority refused or answered something unusable."""

    code = "timestamp_error"
