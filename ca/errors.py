from __future__ import annotations

from core.errors import ConflictError, NotFoundError, SekapError


class CAError(SekapError):
    code = "ca_error"


class AuthorityNotFoundError(CAError, NotFoundError):
    code = "authority_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"no CA or signer named {name!r}")
        self.name = name


class HierarchyExistsError(CAError, ConflictError):
    code = "hierarchy_exists"


class CertificateNotFoundError(CAError, NotFoundError):
    code = "certificate_not_found"

    def __init__(self, serial: str) -> None:
        super().__init__(f"no certificate with serial {serial}")
        self.serial = serial
