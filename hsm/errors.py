from __future__ import annotations

from core.errors import ConflictError, NotFoundError, SekapError, UnavailableError


class HSMError(SekapError):
    code = "hsm_error"


class KeyNotFoundError(HSMError, NotFoundError):
    code = "key_not_found"

    def __init__(self, label: str) -> None:
        super().__init__(f"no key labelled {label!r} in the key store")
        self.label = label


class KeyExistsError(HSMError, ConflictError):
    code = "key_exists"

    def __init__(self, label: str) -> None:
        super().__init__(f"a key labelled {label!r} already exists")
        self.label = label


class KeyStoreUnavailableError(HSMError, UnavailableError):
    code = "key_store_unavailable"


class UnsupportedAlgorithmError(HSMError):
    code = "unsupported_algorithm"
