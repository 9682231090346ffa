"""Errors of the packer and signer."""

from __future__ import annotations

from core.errors import BadRequestError, SekapError, UnavailableError, family


@family
class EPackageError(SekapError):
    """Root of the packer's errors."""

    code = "epackage_error"


class PackingError(EPackageError, BadRequestError):
    """Files cannot be packed (bad or duplicate name, empty package)."""

    code = "packing_error"


class SigningError(EPackageError, BadRequestError):
    """The package cannot be signed (key, certificate or container problem)."""

    code = "signing_error"


class TimestampError(EPackageError, UnavailableError):
    """The time-stamping authority refused or answered something unusable."""

    code = "timestamp_error"


class UsageError(EPackageError, BadRequestError):
    """The command was given options that do not fit together."""

    code = "usage_error"


class ServerError(EPackageError, UnavailableError):
    """The verification server answered with an error or could not be reached."""

    code = "server_error"
