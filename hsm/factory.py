"""Build the configured key store."""

from __future__ import annotations

from core.errors import ConfigurationError
from hsm.base import KeyStore
from hsm.settings import KeyStoreSettings


def open_key_store(settings: KeyStoreSettings) -> KeyStore:
    if not settings.pin:
        raise ConfigurationError(
            "keystore.pin",
            "missing secret: set SEKAP_TRUST_KEYSTORE_PIN or SEKAP_TRUST_KEYSTORE_PIN_FILE (or keystore.pin_file)",
        )
    if settings.backend == "software":
        from hsm.software import SoftwareKeyStore

        return SoftwareKeyStore(settings.path, settings.pin.encode("utf-8"))
    from hsm.pkcs11 import PKCS11KeyStore

    return PKCS11KeyStore(
        module=settings.module, token_label=settings.token_label, pin=settings.pin, pool_size=settings.pool_size
    )
