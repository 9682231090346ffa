"""The clock guard: no token unless the clock can be trusted (RFC 3161 §2.4.2 timeNotAvailable,
ETSI EN 319 421 §7.7.2: no time-stamps while the clock is outside its accuracy).

Two checks before every token:

- the kernel's NTP discipline (``adjtimex``/``ntp_adjtime`` read-only): ``STA_UNSYNC`` clear, the
  clock state not ``TIME_ERROR`` and the kernel's maximum error within the TSA's accuracy; only
  when ``tsa.require_ntp_sync`` is true;
- time never runs backwards past the last token: per process against the previous genTime and,
  after a restart, against the newest genTime recorded for this host (and other hosts', less the
  accuracy).

The guard reports state *transitions* to a callback (which audits them once), never each refusal.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock
from tsa.errors import TimeNotAvailableError

logger = logging.getLogger(__name__)

STA_UNSYNC = 0x0040
TIME_ERROR = 5

OK = "ok"
UNSYNCHRONISED = "unsynchronised"
BACKWARDS = "backwards"


@dataclass(frozen=True)
class SyncStatus:
    """What the kernel says about the clock discipline."""

    synchronised: bool
    max_error_us: int | None
    detail: str


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    # struct timex of <sys/timex.h> (glibc, Linux): the fields up to ``tai`` plus the padding.
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_padding", ctypes.c_int * 11),
    ]


_adjtimex: Callable[..., int] | None = None
_adjtimex_loaded = False
_load_lock = threading.Lock()


def _load_adjtimex() -> Callable[..., int] | None:
    global _adjtimex, _adjtimex_loaded
    with _load_lock:
        if not _adjtimex_loaded:
            _adjtimex_loaded = True
            if sys.platform.startswith("linux"):
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
                function = getattr(libc, "ntp_adjtime", None) or getattr(libc, "adjtimex", None)
                if function is not None:
                    function.argtypes = [ctypes.POINTER(_Timex)]
                    function.restype = ctypes.c_int
                    _adjtimex = function
        return _adjtimex


def kernel_sync_status(max_error_us: int) -> SyncStatus:
    """Read (never set: ``modes = 0``) the kernel clock discipline and judge it.

    Synchronised means ``STA_UNSYNC`` clear, state not ``TIME_ERROR`` and ``maxerror`` (µs) at
    most ``max_error_us``.
    """
    function = _load_adjtimex()
    if function is None:
        return SyncStatus(False, None, "the kernel clock status cannot be read on this platform")
    timex = _Timex()
    timex.modes = 0
    state = function(ctypes.byref(timex))
    if state < 0:
        return SyncStatus(False, None, f"adjtimex failed (errno {ctypes.get_errno()})")
    if timex.status & STA_UNSYNC:
        return SyncStatus(False, int(timex.maxerror), "the kernel reports the clock unsynchronised (STA_UNSYNC)")
    if state == TIME_ERROR:
        return SyncStatus(False, int(timex.maxerror), "the kernel clock state is TIME_ERROR")
    if timex.maxerror > max_error_us:
        return SyncStatus(
            False, int(timex.maxerror), f"kernel maximum error {timex.maxerror} µs exceeds {max_error_us} µs"
        )
    return SyncStatus(True, int(timex.maxerror), "synchronised")


Transition = Callable[[str, str, str, datetime], None]  # (old state, new state, reason, at)


class ClockGuard:
    """Hands out the time for a token, or refuses with :class:`TimeNotAvailableError`.

    ``sync_check`` is injected (tests, other platforms); ``floor`` loads the newest genTime known
    for this host once, on first use (the database is the source of truth across restarts);
    ``on_transition`` is called on each state change, outside the guard's lock.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        require_sync: bool,
        sync_check: Callable[[], SyncStatus],
        floor: Callable[[], datetime | None],
        on_transition: Transition | None = None,
    ) -> None:
        self._clock = clock
        self._require_sync = require_sync
        self._sync_check = sync_check
        self._floor = floor
        self._on_transition = on_transition
        self._lock = threading.Lock()
        self._last: datetime | None = None
        self._floor_loaded = False
        self._state = OK

    @property
    def state(self) -> str:
        return self._state

    def now(self) -> datetime:
        """The genTime for the next token; raises :class:`TimeNotAvailableError` when the clock
        cannot be trusted. Successive calls never go backwards."""
        with self._lock:
            if not self._floor_loaded:
                self._last = self._floor()
                self._floor_loaded = True
            state, reason, at = self._check()
            old = self._state
            self._state = state
        if state != old and self._on_transition is not None:
            try:
                self._on_transition(old, state, reason, at)
            except Exception:  # auditing must not turn a good answer into a failure
                logger.exception("could not record the clock guard transition %s -> %s", old, state)
        if state != OK:
            raise TimeNotAvailableError(state, reason)
        return at

    def _check(self) -> tuple[str, str, datetime]:
        if self._require_sync:
            status = self._sync_check()
            if not status.synchronised:
                return UNSYNCHRONISED, status.detail, self._clock.now()
        now = self._clock.now()
        if self._last is not None and now < self._last:
            return BACKWARDS, f"the clock is {(self._last - now).total_seconds():.6f} s behind the last token", now
        self._last = now
        return OK, "the clock is trusted", now
