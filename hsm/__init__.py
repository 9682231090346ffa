"""Key stores behind one interface: keys are generated and used inside the store.

Private keys are handed out as `cryptography` private-key objects, so certificate, CRL, OCSP and
CMS builders sign through them unchanged. This package knows nothing about certificates.
"""

from hsm.base import KeyLabel, KeySpec, KeyStore
from hsm.errors import HSMError, KeyExistsError, KeyNotFoundError, KeyStoreUnavailableError

__all__ = [
    "HSMError",
    "KeyExistsError",
    "KeyLabel",
    "KeyNotFoundError",
    "KeySpec",
    "KeyStore",
    "KeyStoreUnavailableError",
]
