"""Key-store exceptions: a family under :class:`HSMError`, each with the kind its edge maps."""

from __future__ import annotations

from core.errors import ConflictError, InternalError, NotFoundError, SekapError, UnavailableError, family


@family
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


class KeyStoreError(HSMError, InternalError):
    """The key store is misconfigured or holds something unusable (missing PIN or passphrase,
    a key that does not decrypt, ambiguous labels): an operator's problem, never the client's."""

    code = "key_store_error"


class InvalidKeyLabelError(HSMError, InternalError):
    """A label the store cannot hold; labels come from code and operators, never from clients."""

    code = "invalid_key_label"

    def __init__(self, label: str) -> None:
        super().__init__(f"invalid key label {label!r}: use letters, digits, '.', '_' and '-' (at most 100)")
        self.label = label


class UnsupportedAlgorithmError(HSMError, InternalError):
    code = "unsupported_algorithm"
