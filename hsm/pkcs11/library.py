"""The PKCS#11 library as loaded and initialised in this process.

Nothing is loaded at import. The first use in a process loads and initialises the module; after
a fork (gunicorn) the child initialises it again and gets fresh locks, because the parent's state
and any lock another thread held at fork time mean nothing there.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from typing import Any

import pkcs11
from pkcs11 import exceptions as p11e

from hsm.errors import KeyStoreUnavailableError
from hsm.pkcs11.cryptoki import Cryptoki
from hsm.pkcs11.failures import describe


class Module:
    """One PKCS#11 library as initialised in this process, with the lock that serialises its calls."""

    def __init__(self, path: str, lib: Any, cryptoki: Cryptoki) -> None:
        self.path = path
        self.lib = lib
        self.cryptoki = cryptoki
        self.pid = os.getpid()
        self.lock = threading.RLock()
        # bumped by every re-initialisation: handles from an older epoch must never be used
        self.epoch = 0
        self.rescanned_at = -math.inf

    def reinitialise(self) -> None:
        """C_Finalize + C_Initialize (caller holds ``lock``): rescans tokens, invalidates all handles."""
        self.epoch += 1
        with contextlib.suppress(p11e.PKCS11Error):
            self.lib.finalize()
        self.lib.initialize()


_modules: dict[str, Module] = {}
_modules_lock = threading.Lock()
_fork_lock = threading.Lock()
_import_pid = os.getpid()


def _renew_locks_in_child() -> None:
    # another thread may have held these at fork time; the child must not inherit them locked
    global _modules_lock, _fork_lock
    _modules_lock = threading.Lock()
    _fork_lock = threading.Lock()


os.register_at_fork(after_in_child=_renew_locks_in_child)


def module_for(path: str) -> Module:
    """The module loaded and initialised in *this* process (re-initialised after a fork)."""
    with _modules_lock:
        pid = os.getpid()
        entry = _modules.get(path)
        if entry is not None and entry.pid == pid:
            return entry
        try:
            lib = pkcs11.lib(path)
            if entry is not None or pid != _import_pid:
                # the library state may have been inherited from the parent: C_Initialize again here
                with contextlib.suppress(p11e.PKCS11Error):
                    lib.finalize()
                lib.initialize()
            entry = Module(path, lib, Cryptoki(path))
        except (p11e.PKCS11Error, OSError) as exc:
            raise KeyStoreUnavailableError(f"cannot load PKCS#11 module {path!r}: {describe(exc)}") from exc
        _modules[path] = entry
        return entry


def call_lock(path: str) -> threading.RLock:
    """The lock serialising calls into the module at ``path`` in this process (loading it if needed).

    Code that calls the same module directly, beside the key stores (tools, tests), must hold it.
    """
    return module_for(path).lock


def fork_lock() -> threading.Lock:
    """The lock under which a store notices it runs in a forked child (renewed in each child)."""
    return _fork_lock
