"""A pool of logged-in sessions on one token, with reconnection and re-login.

* Sessions are opened without a PIN and logged in with ``C_Login`` directly
  (``CKR_USER_ALREADY_LOGGED_IN`` counts as success), so closing one session never logs the
  others out. A rejected PIN is never tried again by the same pool: a readiness probe retrying a
  wrong PIN would lock the token.
* A session or token error drops the pool and the cached handles, reconnects (re-opening
  sessions, logging in, re-initialising the module if even that fails) and retries the operation
  once. After a re-initialisation, old session and object handles are never used again (not even
  to close them): the module may hand the same numbers to new objects.
* After a fork the child starts with no sessions; the parent's are dropped, never closed, because
  closing them could end the parent's sessions on a network HSM.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pkcs11 import Attribute, Mechanism
from pkcs11 import exceptions as p11e

from core import events
from hsm.errors import KeyStoreError, KeyStoreUnavailableError, UnsupportedAlgorithmError
from hsm.pkcs11.failures import PIN_REJECTED, REFUSED, UNSUPPORTED, describe, is_module_broken
from hsm.pkcs11.library import Module, fork_lock, module_for

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

_TOKEN_RESCAN_INTERVAL = 10.0
_REINITIALISE_ATTEMPTS = 3


@dataclass(eq=False)
class Lease:
    """A pooled, logged-in session and the private-key handles found through it."""

    session: Any
    generation: int
    module: Module
    epoch: int
    keys: dict[tuple[str, bytes], Any] = field(default_factory=dict)


class SessionPool:
    """At most ``pool_size`` sessions on the token labelled ``token_label`` of ``module_path``.

    PKCS#11 login state belongs to the process, not to a pool: if something else in this process
    is logged in to the same token, this pool's PIN is not checked again.
    """

    def __init__(self, module_path: str, token_label: str, pin: str, pool_size: int, acquire_timeout: float) -> None:
        self.module_path = module_path
        self.token_label = token_label
        self._pin = pin
        self.pool_size = pool_size
        self._acquire_timeout = acquire_timeout
        self._pin_rejected: str | None = None
        self._generation = 0
        self._lost_at: float | None = None  # monotonic time of a session loss not yet followed by a success
        self._reset_process_state()

    def _reset_process_state(self) -> None:
        """Fresh locks, no sessions and no token handle: for a new pool or a forked child."""
        self._pid = os.getpid()
        self._cond = threading.Condition(threading.Lock())
        # Serialises a store's check-then-write sequences (exists, then generate) in this process.
        self.write_lock = threading.Lock()
        self._idle: list[Lease] = []
        self.open_count = 0  # sessions alive: idle, lent out, or being opened
        self._generation += 1
        self._token: Any = None
        self._token_epoch = -1
        self.mechanisms: frozenset[Mechanism] = frozenset()

    def __repr__(self) -> str:  # never the PIN
        return f"SessionPool(module={self.module_path!r}, token_label={self.token_label!r}, pool_size={self.pool_size})"

    def run(self, what: str, operation: Callable[[Lease], _T]) -> _T:
        """Run ``operation`` with a lent session; after a session or token failure reconnect and retry once."""
        failure: p11e.PKCS11Error | None = None
        while True:
            lease = self.borrow()
            with lease.module.lock:
                if lease.epoch != lease.module.epoch:  # module re-initialised: its handles mean nothing now
                    self._discard(lease, close=False)
                    continue
                try:
                    result = operation(lease)
                except p11e.PKCS11Error as exc:
                    self._after_failure(what, lease, exc, failure)
                    failure = exc
                    continue
                except BaseException:
                    self.give_back(lease)
                    raise
            self.give_back(lease)
            if self._lost_at is not None:
                self._recovered(what)
            return result

    def _after_failure(self, what: str, lease: Lease, exc: p11e.PKCS11Error, earlier: p11e.PKCS11Error | None) -> None:
        """Raise for a refusal or a second failure; otherwise drop the session to retry once."""
        if isinstance(exc, REFUSED):
            # rare; the session may be mid-operation in python-pkcs11's eyes: do not reuse it
            self._discard(lease, reset=False)
            error = UnsupportedAlgorithmError if isinstance(exc, UNSUPPORTED) else KeyStoreError
            raise error(f"{what}: token {self.token_label!r} refused ({describe(exc)})") from exc
        self._discard(lease)
        if self._lost_at is None:
            self._lost_at = time.monotonic()
            events.emit(events.HSM_SESSION_LOST, token=self.token_label, operation=what, error=describe(exc))
        if earlier is not None:
            raise KeyStoreUnavailableError(
                f"{what} failed on token {self.token_label!r} even after reconnecting: {describe(exc)}"
            ) from exc
        _log.warning(
            "%s failed on PKCS#11 token %r (%s); reconnecting and retrying once",
            what,
            self.token_label,
            describe(exc),
        )

    def _recovered(self, what: str) -> None:
        """The first success after a loss: reported once, with how long the token was away."""
        with self._cond:
            lost_at, self._lost_at = self._lost_at, None
        if lost_at is not None:
            seconds = round(time.monotonic() - lost_at, 3)
            events.emit(events.HSM_SESSION_RECOVERED, token=self.token_label, operation=what, seconds=seconds)

    def check_pid(self) -> None:
        if self._pid == os.getpid():
            return
        with fork_lock():
            if self._pid != os.getpid():
                _log.info(
                    "process forked: PKCS#11 store for token %r reconnects in pid %d", self.token_label, os.getpid()
                )
                self._reset_process_state()  # the parent's sessions are dropped, not closed

    def close(self) -> None:
        """Close the idle sessions now and lent-out ones when they come back; later use reconnects."""
        if self._pid != os.getpid():
            self.check_pid()
            return
        with self._cond:
            self._generation += 1
            idle, self._idle = self._idle, []
            self.open_count -= len(idle)
            self._cond.notify_all()
        self._close_sessions(idle)

    def borrow(self) -> Lease:
        self.check_pid()
        deadline = time.monotonic() + self._acquire_timeout
        with self._cond:
            while not self._idle and self.open_count >= self.pool_size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise KeyStoreUnavailableError(
                        f"no free session on token {self.token_label!r} within {self._acquire_timeout:g} s "
                        f"(pool_size={self.pool_size})"
                    )
                self._cond.wait(remaining)
            if self._idle:
                return self._idle.pop()
            self.open_count += 1
            generation = self._generation
        try:
            return self._open_session(generation)
        except BaseException:
            with self._cond:
                self.open_count -= 1
                self._cond.notify()
            raise

    def give_back(self, lease: Lease) -> None:
        with self._cond:
            if lease.generation == self._generation:
                self._idle.append(lease)
                self._cond.notify()
                return
            self.open_count -= 1
            self._cond.notify()
        self._close_sessions([lease])  # returned after a reset or close()

    def _discard(self, lease: Lease, *, close: bool = True, reset: bool = True) -> None:
        """Drop a session; on the first failure of a generation (``reset``) the idle ones and the token too."""
        stale: list[Lease] = []
        with self._cond:
            self.open_count -= 1
            if reset and lease.generation == self._generation:
                self._generation += 1
                stale, self._idle = self._idle, []
                self.open_count -= len(stale)
                self._token = None
            self._cond.notify_all()
        self._close_sessions([lease, *stale] if close else stale)

    def _close_sessions(self, leases: list[Lease]) -> None:
        for lease in leases:
            with lease.module.lock:
                if lease.epoch == lease.module.epoch and lease.module.pid == os.getpid():
                    with contextlib.suppress(p11e.PKCS11Error):
                        lease.session.close()  # opened without a PIN: C_CloseSession, no logout

    def _open_session(self, generation: int) -> Lease:
        """Open and log in a session; if the module seems broken, re-initialise it and try again.

        A missing token counts too (at most every ``_TOKEN_RESCAN_INTERVAL`` seconds): tokens are
        only discovered by C_Initialize, and SoftHSM2 misses a token whose file another process is
        rewriting (at every login) while this one initialises, e.g. when gunicorn workers start.
        """
        module = module_for(self.module_path)
        with module.lock:
            try:
                return self._open_on(module, generation)
            except p11e.PKCS11Error as exc:
                if not (is_module_broken(exc) or self._may_rescan(exc, module)):
                    raise self._unavailable(exc) from exc
                error = exc
            for attempt in range(_REINITIALISE_ATTEMPTS):
                _log.warning(
                    "cannot open a session on PKCS#11 token %r (%s); re-initialising the module (%d/%d)",
                    self.token_label,
                    describe(error),
                    attempt + 1,
                    _REINITIALISE_ATTEMPTS,
                )
                # back off with jitter: lets a concurrent writer finish and de-synchronises workers
                time.sleep(random.uniform(0.05, 0.2) * 2**attempt)  # noqa: S311 - not a secret
                try:
                    module.reinitialise()
                    return self._open_on(module, generation)
                except p11e.PKCS11Error as exc:
                    error = exc
                    if not (is_module_broken(exc) or isinstance(exc, p11e.NoSuchToken)):
                        break
            raise self._unavailable(error) from error

    @staticmethod
    def _may_rescan(exc: p11e.PKCS11Error, module: Module) -> bool:
        if not isinstance(exc, p11e.NoSuchToken):
            return False
        now = time.monotonic()
        if now - module.rescanned_at < _TOKEN_RESCAN_INTERVAL:
            return False  # a readiness probe must not re-initialise the module (and others' sessions) in a loop
        module.rescanned_at = now
        return True

    def _open_on(self, module: Module, generation: int) -> Lease:
        if self._token is None or self._token_epoch != module.epoch:
            token = module.lib.get_token(token_label=self.token_label)
            self.mechanisms = frozenset(token.slot.get_mechanisms())
            self._token, self._token_epoch = token, module.epoch
        session = self._token.open(rw=True)
        lease = Lease(session, generation, module, module.epoch)
        try:
            self._log_in(lease)
        except BaseException:
            with contextlib.suppress(p11e.PKCS11Error):
                session.close()
            raise
        return lease

    def _log_in(self, lease: Lease) -> bool:
        """Log in (True) unless this process already is (False); a rejected PIN is never retried."""
        if self._pin_rejected is not None:
            raise KeyStoreUnavailableError(self._pin_rejected)
        try:
            return lease.module.cryptoki.login(lease.session.handle, self._pin)
        except PIN_REJECTED as exc:
            self._pin_rejected = (
                f"token {self.token_label!r} rejected the configured PIN ({type(exc).__name__}); "
                "not trying again so as not to lock the token: fix the PIN and restart"
            )
            raise KeyStoreUnavailableError(self._pin_rejected) from exc

    def search(self, lease: Lease, template: dict[Attribute, Any]) -> list[Any]:
        """All matching objects, on a session known to be alive and logged in.

        Logged out, private keys are simply invisible, so log in again first. And python-pkcs11
        leaves a search whose C_FindObjectsInit failed half-open (its finaliser raises later), so a
        dead session must fail here instead. The search runs to the end so the session is free again.
        """
        if not lease.module.cryptoki.logged_in(lease.session.handle):
            self._log_in(lease)
        return list(lease.session.get_objects(template))

    def _unavailable(self, exc: p11e.PKCS11Error) -> KeyStoreUnavailableError:
        if isinstance(exc, p11e.NoSuchToken):
            message = f"no token labelled {self.token_label!r} in PKCS#11 module {self.module_path!r}"
        elif isinstance(exc, p11e.MultipleTokensReturned):
            message = f"more than one token is labelled {self.token_label!r} in PKCS#11 module {self.module_path!r}"
        elif isinstance(exc, PIN_REJECTED):
            message = f"token {self.token_label!r} rejected the configured PIN ({type(exc).__name__})"
        else:
            message = f"cannot open a session on token {self.token_label!r}: {describe(exc)}"
        return KeyStoreUnavailableError(message)
