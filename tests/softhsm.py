"""Real SoftHSM2 tokens for tests: one configuration per process, a fresh token per test.

Why it works this way: SoftHSM2 reads ``SOFTHSM2_CONF`` once, in ``C_Initialize``, and only sees the
tokens that exist at that moment. So each test process gets ONE configuration (a token directory
under pytest's temporary directory) and tokens are added to it with distinct labels:

* before the library is initialised in this process: with ``softhsm2-util --init-token --free``;
* afterwards: with ``C_InitToken`` + ``C_InitPIN`` through the already initialised library (a token
  written behind its back would stay invisible until the next ``C_Initialize``).

Child processes (fork or spawn) inherit ``SOFTHSM2_CONF`` and see every token created before.
SoftHSM2 missing is a test failure, never a skip.

Use from a conftest (the fixtures must be imported to be visible)::

    from tests.softhsm import softhsm, softhsm_token  # noqa: F401

    def test_signing(softhsm_token: SoftHSMToken) -> None:
        store = softhsm_token.key_store()           # PKCS11KeyStore, closed after the test
        ...

    @pytest.fixture(scope="module")
    def ca_token(softhsm: SoftHSM) -> SoftHSMToken:
        return softhsm.make_token("ca-ceremony")      # any scope: the environment is per session

Outside fixtures: ``make_token(tmp_dir, "label")`` (``tmp_dir`` only matters for the first call).
"""

from __future__ import annotations

import ctypes
import itertools
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from pkcs11 import TokenFlag

from hsm.pkcs11 import PKCS11KeyStore, call_lock

__all__ = ["MODULE", "SoftHSM", "SoftHSMToken", "make_token", "softhsm", "softhsm_environment", "softhsm_token"]

MODULE = os.environ.get("SEKAP_TRUST_SOFTHSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
UTIL = "softhsm2-util"
_CKR_OK = 0
_CKR_CRYPTOKI_NOT_INITIALIZED = 0x190
_CKR_USER_ALREADY_LOGGED_IN = 0x100
_CKU_USER = 1

_lock = threading.Lock()
_environment: SoftHSM | None = None
_counter = itertools.count(1)
_stores: dict[str, list[PKCS11KeyStore]] = {}


@dataclass(frozen=True)
class SoftHSMToken:
    """An initialised SoftHSM2 token. ``repr`` leaves the PINs out, like production code must."""

    module: str
    label: str
    pin: str = field(repr=False)
    so_pin: str = field(repr=False)

    def key_store(self, pool_size: int = 4, **kwargs: Any) -> PKCS11KeyStore:
        """A key store on this token; the ``softhsm_token`` fixture closes it after the test."""
        store = PKCS11KeyStore(module=self.module, token_label=self.label, pin=self.pin, pool_size=pool_size, **kwargs)
        _stores.setdefault(self.label, []).append(store)
        return store

    def close_stores(self) -> None:
        """Close the stores made by :meth:`key_store` (their sessions; the token stays)."""
        for store in _stores.pop(self.label, []):
            store.close()

    @property
    def slot_id(self) -> int:
        with call_lock(self.module):
            return int(pkcs11.lib(self.module).get_token(token_label=self.label).slot.slot_id)

    @contextmanager
    def session(self, *, rw: bool = False) -> Iterator[Any]:
        """A python-pkcs11 session, logged in, for looking at objects directly.

        It logs in with ``C_Login`` on the open session (already logged in counts as success) and
        closes without ``C_Logout``, so key stores of this process stay logged in.
        """
        with call_lock(self.module):
            session = pkcs11.lib(self.module).get_token(token_label=self.label).open(rw=rw)
            secret = self.pin.encode()
            rv = _cryptoki(self.module).C_Login(session.handle, _CKU_USER, secret, len(secret))
        try:
            if rv not in (_CKR_OK, _CKR_USER_ALREADY_LOGGED_IN):
                raise AssertionError(f"C_Login on token {self.label!r} failed: CKR 0x{rv:x}")
            yield session
        finally:
            with call_lock(self.module):
                session.close()

    def close_all_sessions(self) -> None:
        """``C_CloseAllSessions`` on this token's slot: what a token reset or HSM failover does to a process."""
        slot_id = self.slot_id
        with call_lock(self.module):
            rv = _cryptoki(self.module).C_CloseAllSessions(slot_id)
        if rv != _CKR_OK:
            raise AssertionError(f"C_CloseAllSessions failed: CKR 0x{rv:x}")


class SoftHSM:
    """The SoftHSM2 configuration of this test process and the tokens made in it."""

    def __init__(self, base_dir: Path, module: str = MODULE) -> None:
        _require_softhsm(module)
        self.module = module
        self.base_dir = base_dir
        self.token_dir = base_dir / "tokens"
        self.token_dir.mkdir(parents=True, exist_ok=True)
        self.conf_path = self.write_config(base_dir / "softhsm2.conf")
        current = os.environ.get("SOFTHSM2_CONF")
        if current and current != str(self.conf_path) and _initialised_in_process(module):
            pytest.fail(
                f"SoftHSM2 is already initialised in this process with SOFTHSM2_CONF={current}; "
                "create the test environment (tests.softhsm) before anything loads the library",
                pytrace=False,
            )
        os.environ["SOFTHSM2_CONF"] = str(self.conf_path)
        self.tokens: dict[str, SoftHSMToken] = {}

    def write_config(self, path: Path, **settings: str) -> Path:
        """A softhsm2.conf for this token directory; ``settings`` override entries.

        E.g. ``write_config(p, **{"slots.mechanisms": "CKM_ECDSA,CKM_EC_KEY_PAIR_GEN"})`` for a
        subprocess that must see tokens with fewer mechanisms (SoftHSM 2.6 ignores "-CKM_..."
        lists). ``library.reset_on_fork`` stays off so the key store's own fork handling is what
        gets tested.
        """
        entries = {
            "directories.tokendir": str(self.token_dir),
            "objectstore.backend": "file",
            "log.level": "ERROR",
            "slots.removable": "false",
            "slots.mechanisms": "ALL",
            "library.reset_on_fork": "false",
            **settings,
        }
        path.write_text("".join(f"{key} = {value}\n" for key, value in entries.items()), encoding="utf-8")
        return path

    def make_token(
        self, label: str | None = None, *, pin: str | None = None, so_pin: str | None = None
    ) -> SoftHSMToken:
        """Initialise a new token; labels must be unique in the process (at most 32 characters)."""
        label = label or f"test-{next(_counter):04d}-{secrets.token_hex(3)}"
        if len(label.encode()) > 32:
            raise ValueError(f"token label {label!r} is longer than 32 bytes")
        token = SoftHSMToken(self.module, label, pin or secrets.token_hex(8), so_pin or secrets.token_hex(8))
        with _lock:
            if label in self.tokens:
                raise ValueError(f"a SoftHSM2 token labelled {label!r} exists already in this test process")
            if _initialised_in_process(self.module):
                self._init_token_in_process(token)
            else:
                self._init_token_with_util(token)
            self.tokens[label] = token
        return token

    def _init_token_with_util(self, token: SoftHSMToken) -> None:
        command = [UTIL, "--init-token", "--free", "--label", token.label, "--so-pin", token.so_pin, "--pin", token.pin]
        env = {**os.environ, "SOFTHSM2_CONF": str(self.conf_path)}
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=60)
        if result.returncode != 0:
            pytest.fail(f"softhsm2-util --init-token {token.label!r} failed: {result.stderr.strip()}", pytrace=False)

    def _init_token_in_process(self, token: SoftHSMToken) -> None:
        with call_lock(self.module):  # key stores may be using the module from other threads
            self._init_token_locked(token)

    def _init_token_locked(self, token: SoftHSMToken) -> None:
        lib = pkcs11.lib(self.module)
        free = [s for s in lib.get_slots(token_present=True) if not s.get_token().flags & TokenFlag.TOKEN_INITIALIZED]
        if not free:
            pytest.fail("SoftHSM2 offers no free slot to initialise a token in", pytrace=False)
        so_pin = token.so_pin.encode()
        rv = _cryptoki(self.module).C_InitToken(
            free[0].slot_id, so_pin, len(so_pin), token.label.encode().ljust(32, b" ")
        )
        if rv != _CKR_OK:
            pytest.fail(f"C_InitToken {token.label!r} failed: CKR 0x{rv:x}", pytrace=False)
        with free[0].get_token().open(rw=True, so_pin=token.so_pin) as session:
            session.init_pin(token.pin)


def softhsm_environment(base_dir: Path, module: str = MODULE) -> SoftHSM:
    """The process-wide SoftHSM2 environment; the first call decides where its tokens live."""
    global _environment
    with _lock:
        if _environment is None:
            _environment = SoftHSM(base_dir, module)
        return _environment


def make_token(tmp_dir: Path, label: str | None = None) -> SoftHSMToken:
    """A new token in the process-wide environment (created under ``tmp_dir`` on first use)."""
    return softhsm_environment(tmp_dir).make_token(label)


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHSM:
    """The SoftHSM2 environment of this test session (one token directory, SOFTHSM2_CONF set)."""
    return softhsm_environment(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture
def softhsm_token(softhsm: SoftHSM) -> Iterator[SoftHSMToken]:
    """A fresh, empty token for one test; stores made with ``key_store()`` are closed afterwards."""
    token = softhsm.make_token()
    yield token
    token.close_stores()


def _require_softhsm(module: str) -> None:
    missing = [
        name for name, ok in ((module, os.path.exists(module)), (UTIL, shutil.which(UTIL) is not None)) if not ok
    ]
    if missing:
        pytest.fail(
            f"SoftHSM2 is required for these tests but {', '.join(missing)} is missing: install softhsm2 "
            "(apt-get install softhsm2) or set SEKAP_TRUST_SOFTHSM_MODULE",
            pytrace=False,
        )


def _cryptoki(module: str) -> ctypes.CDLL:
    """The module's exported C_* functions (SoftHSM2 exports them), for calls python-pkcs11 lacks."""
    library = ctypes.CDLL(module)
    ulong, buffer = ctypes.c_ulong, ctypes.c_char_p
    library.C_InitToken.argtypes = [ulong, buffer, ulong, buffer]
    library.C_Login.argtypes = [ulong, ulong, buffer, ulong]
    library.C_CloseAllSessions.argtypes = [ulong]
    library.C_GetSlotList.argtypes = [ctypes.c_ubyte, ctypes.c_void_p, ctypes.POINTER(ulong)]
    for name in ("C_InitToken", "C_Login", "C_CloseAllSessions", "C_GetSlotList"):
        getattr(library, name).restype = ulong
    return library


def _initialised_in_process(module: str) -> bool:
    """Whether this process has the module loaded and C_Initialize'd (inherited through fork counts)."""
    try:
        library = ctypes.CDLL(module, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
    except OSError:
        return False
    count = ctypes.c_ulong(0)
    library.C_GetSlotList.argtypes = [ctypes.c_ubyte, ctypes.c_void_p, ctypes.POINTER(ctypes.c_ulong)]
    library.C_GetSlotList.restype = ctypes.c_ulong
    return int(library.C_GetSlotList(0, None, ctypes.byref(count))) != _CKR_CRYPTOKI_NOT_INITIALIZED
