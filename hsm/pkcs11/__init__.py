"""PKCS#11 key store: keys are generated in, and never leave, a token (HSM or SoftHSM2).

The layers, bottom up:

* :mod:`~hsm.pkcs11.library` — the module loaded and initialised lazily in the process that
  uses it, and again after a fork (:mod:`~hsm.pkcs11.cryptoki` binds the two Cryptoki calls
  python-pkcs11 lacks). python-pkcs11 calls ``C_Initialize(NULL)``, which tells the module it
  will not be called from several threads at once (SoftHSM2 then switches its own locking off),
  so all calls into one module are serialised per process.
* :mod:`~hsm.pkcs11.sessions` — a pool of logged-in sessions per token: login per token and
  process, a rejected PIN never retried, reconnection and one retry after a session or token
  failure (:mod:`~hsm.pkcs11.failures` says which failure is which).
* :mod:`~hsm.pkcs11.keys` — token keys as subclasses of the ``cryptography`` private-key ABCs,
  so the X.509, CRL, OCSP and CMS builders call their ``sign()``; digests are computed in
  software (:mod:`~hsm.pkcs11.encoding`) and only the digest goes to the token (except Ed25519).
* :mod:`~hsm.pkcs11.store` — :class:`PKCS11KeyStore`, the :class:`hsm.base.KeyStore` on top.
"""

from __future__ import annotations

from hsm.pkcs11.keys import PKCS11ECPrivateKey, PKCS11Ed25519PrivateKey, PKCS11RSAPrivateKey
from hsm.pkcs11.library import call_lock
from hsm.pkcs11.store import PKCS11KeyStore

__all__ = [
    "PKCS11ECPrivateKey",
    "PKCS11Ed25519PrivateKey",
    "PKCS11KeyStore",
    "PKCS11RSAPrivateKey",
    "call_lock",
]
