"""What the composition root hands to each mounted service: settings, clock, key store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar, cast

from ca import keyquality
from config.protocol_lane import App
from config.settings import Settings
from core import audit
from core.clock import Clock, SystemClock
from hsm.base import KeyStore
from hsm.factory import open_key_store

# The WSGI app type every mount function receives (falcon.App with a direct path for the
# binary protocol endpoints, see config.protocol_lane).
WSGIApp: TypeAlias = App
T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    _key_store: KeyStore | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _shared: dict[str, Any] = field(default_factory=dict, repr=False)
    _shared_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def shared(self, name: str, build: Callable[[], T]) -> T:
        """One instance per runtime of what ``build`` makes (services wired into several mounts
        and jobs, such as the CA port)."""
        with self._shared_lock:
            if name not in self._shared:
                self._shared[name] = build()
            return cast(T, self._shared[name])

    def __post_init__(self) -> None:
        # The compromised-key lists are read once, at start-up, so a bad path fails early.
        keyquality.configure(self.settings.ca.key_blocklist_files)
        chain_key = self.settings.audit.chain_key
        audit.configure_chain_key(chain_key.encode("utf-8") if chain_key else None)

    @property
    def key_store(self) -> KeyStore:
        """Opened on first use, in the process that uses it (never before gunicorn forks)."""
        with self._lock:
            if self._key_store is None:
                self._key_store = open_key_store(self.settings.keystore)
            return self._key_store
