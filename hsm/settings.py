"""Key-store settings (section ``[keystore]``); the PIN/passphrase is a secret resolved by config."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigurationError


@dataclass(frozen=True)
class KeyStoreSettings:
    backend: str = "software"  # "software" | "pkcs11"
    # software
    path: str = "var/keys"
    # pkcs11
    module: str = "/usr/lib/softhsm/libsofthsm2.so"
    token_label: str = "sekap-trust"  # noqa: S105 - a token name, not a secret
    pool_size: int = 4
    # secret: software passphrase or PKCS#11 user PIN (from env / secret file, never TOML)
    pin: str | None = None

    def __post_init__(self) -> None:
        if self.backend not in ("software", "pkcs11"):
            raise ConfigurationError("keystore.backend", "must be 'software' or 'pkcs11'")
        if not 1 <= self.pool_size <= 64:
            raise ConfigurationError("keystore.pool_size", "must be between 1 and 64")

    def __repr__(self) -> str:  # never print the PIN
        return (
            f"KeyStoreSettings(backend={self.backend!r}, path={self.path!r}, "
            f"module={self.module!r}, token_label={self.token_label!r})"
        )
