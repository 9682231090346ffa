"""PKCS#11 key store: keys are generated in, and never leave, a token (HSM or SoftHSM2).

Design notes (the why):

* **Lazy, per process.** Nothing is loaded in ``__init__``. The module is initialised, and sessions are
  opened, in the process that first uses the store. After a fork (gunicorn) the child re-initialises
  the module and opens its own sessions; the parent's sessions are dropped, never closed, because
  closing them could end the parent's sessions on a network HSM.
* **Serialised calls.** python-pkcs11 calls ``C_Initialize(NULL)``, which tells the module it will not
  be called from several threads at once (SoftHSM2 then switches its own locking off). So all calls
  into one module are serialised per process. Sessions are still pooled: an operation borrows a
  session, a broken one is replaced, and workers scale across processes.
* **Login is per token and process, not per session.** Sessions are opened without a PIN and logged in
  with ``C_Login`` directly (``CKR_USER_ALREADY_LOGGED_IN`` counts as success), so closing one session
  never logs the others out. A rejected PIN is never tried again by the same store: a readiness probe
  retrying a wrong PIN would lock the token.
* **Recovery.** A session or token error drops the pool and the cached handles, reconnects (re-opening
  sessions, logging in, re-initialising the module if even that fails) and retries the operation once.
  After a re-initialisation, old session and object handles are never used again (not even to close
  them): the module may hand the same numbers to new objects.
* **Keys are cryptography objects.** :meth:`PKCS11KeyStore.find` returns subclasses of the
  ``cryptography`` private-key ABCs; the X.509, CRL, OCSP and PKCS#7 builders call their ``sign()``.
  Digests are computed in software and only the digest is sent to the token (except Ed25519).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import os
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, NoReturn, Self, TypeVar

import pkcs11
from cryptography.hazmat.primitives import _serialization, hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.padding import (
    MGF1,
    PSS,
    AsymmetricPadding,
    PKCS1v15,
    calculate_max_pss_salt_length,
)
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)
from cryptography.hazmat.primitives.asymmetric.utils import NoDigestInfo, Prehashed, encode_dss_signature
from cryptography.utils import Buffer
from pkcs11 import MGF, Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11 import exceptions as p11e

from hsm.base import KeyLabel, KeySpec, KeyStore
from hsm.errors import (
    KeyExistsError,
    KeyNotFoundError,
    KeyStoreError,
    KeyStoreUnavailableError,
    UnsupportedAlgorithmError,
)
from hsm.software import check_label

__all__ = [
    "PKCS11ECPrivateKey",
    "PKCS11Ed25519PrivateKey",
    "PKCS11KeyStore",
    "PKCS11RSAPrivateKey",
    "call_lock",
]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

# --- encodings ----------------------------------------------------------------------------------

# CKA_EC_PARAMS: DER namedCurve OIDs; Ed25519 also as the PKCS#11 3.0 PrintableString form.
_EC_PARAMS = {
    "secp256r1": bytes.fromhex("06082a8648ce3d030107"),
    "secp384r1": bytes.fromhex("06052b81040022"),
    "secp521r1": bytes.fromhex("06052b81040023"),
}
_CURVES: dict[bytes, ec.EllipticCurve] = {
    _EC_PARAMS["secp256r1"]: ec.SECP256R1(),
    _EC_PARAMS["secp384r1"]: ec.SECP384R1(),
    _EC_PARAMS["secp521r1"]: ec.SECP521R1(),
}
_ED25519_PARAMS = bytes.fromhex("06032b6570")  # id-Ed25519
_ED25519_NAMES = (_ED25519_PARAMS, b"\x13\x0cedwards25519")

# Hashes accepted for signing (SHA-1 and MD5 deliberately not): the last arc of the NIST hash OID
# 2.16.840.1.101.3.4.2.x, for the PKCS#1 v1.5 DigestInfo.
_HASH_OID_ARC = {
    "sha224": 4,
    "sha256": 1,
    "sha384": 2,
    "sha512": 3,
    "sha3-224": 7,
    "sha3-256": 8,
    "sha3-384": 9,
    "sha3-512": 10,
}
# PSS: (CKM hash, CKG_MGF1, CKM hash-and-sign) per hash; SHA-3 PSS is not offered by common tokens.
_PSS_HASH = {
    "sha224": (Mechanism.SHA224, MGF.SHA224, Mechanism.SHA224_RSA_PKCS_PSS),
    "sha256": (Mechanism.SHA256, MGF.SHA256, Mechanism.SHA256_RSA_PKCS_PSS),
    "sha384": (Mechanism.SHA384, MGF.SHA384, Mechanism.SHA384_RSA_PKCS_PSS),
    "sha512": (Mechanism.SHA512, MGF.SHA512, Mechanism.SHA512_RSA_PKCS_PSS),
}


def _digest_info(algorithm: hashes.HashAlgorithm, digest: bytes) -> bytes:
    """DER DigestInfo for RSASSA-PKCS1-v1_5 (all lengths are short-form)."""
    oid = bytes([0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, _HASH_OID_ARC[algorithm.name]])
    algorithm_id = b"\x30" + bytes([len(oid) + 2]) + oid + b"\x05\x00"
    body = algorithm_id + b"\x04" + bytes([len(digest)]) + digest
    return b"\x30" + bytes([len(body)]) + body


def _check_hash(algorithm: hashes.HashAlgorithm) -> None:
    if algorithm.name not in _HASH_OID_ARC:
        raise UnsupportedAlgorithmError(
            f"hash {algorithm.name!r} is not allowed for signing; use one of {', '.join(_HASH_OID_ARC)}"
        )


def _digest(data: Buffer, algorithm: hashes.HashAlgorithm | Prehashed) -> tuple[hashes.HashAlgorithm, bytes]:
    """The hash algorithm and the digest to sign: computed here, or given by the caller (Prehashed)."""
    if isinstance(algorithm, Prehashed):
        inner = algorithm._algorithm  # cryptography keeps the wrapped algorithm only privately
        _check_hash(inner)
        digest = bytes(data)
        if len(digest) != inner.digest_size:
            raise ValueError(f"a prehashed {inner.name} digest must be {inner.digest_size} bytes long")
        return inner, digest
    _check_hash(algorithm)
    hasher = hashes.Hash(algorithm)
    hasher.update(data)
    return algorithm, hasher.finalize()


def _der_octet_string(value: bytes) -> bytes:
    """Content of a DER OCTET STRING (CKA_EC_POINT is one, by the standard)."""
    if len(value) < 2 or value[0] != 0x04:
        raise ValueError("not a DER OCTET STRING")
    length, offset = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(value[2 : 2 + count], "big"), 2 + count
    if len(value) != offset + length:
        raise ValueError("bad DER OCTET STRING length")
    return value[offset:]


def _ec_point(value: bytes, expected_length: int) -> bytes:
    """The public point from CKA_EC_POINT; some tokens omit the OCTET STRING wrapper."""
    return value if len(value) == expected_length else _der_octet_string(value)


# --- errors -------------------------------------------------------------------------------------

# The token refused this particular request; reconnecting would not help.
_UNSUPPORTED = (
    p11e.MechanismInvalid,
    p11e.MechanismParamInvalid,
    p11e.FunctionNotSupported,
    p11e.DomainParamsInvalid,
    p11e.KeySizeRange,
)
_REFUSED = (
    *_UNSUPPORTED,
    p11e.ArgumentsBad,
    p11e.AttributeReadOnly,
    p11e.AttributeSensitive,
    p11e.AttributeTypeInvalid,
    p11e.AttributeValueInvalid,
    p11e.DataInvalid,
    p11e.DataLenRange,
    p11e.FunctionRejected,
    p11e.KeyTypeInconsistent,
    p11e.TemplateIncomplete,
    p11e.TemplateInconsistent,
    p11e.TokenWriteProtected,
)
# The PIN itself is the problem: never retried (a retry loop would lock the token).
_PIN_REJECTED = (
    p11e.PinIncorrect,
    p11e.PinInvalid,
    p11e.PinLenRange,
    p11e.PinExpired,
    p11e.PinLocked,
    p11e.UserPinNotInitialized,
)
# Opening a session failed in a way that suggests the module itself needs re-initialising.
_MODULE_BROKEN = (
    p11e.GeneralError,
    p11e.DeviceError,
    p11e.DeviceRemoved,
    p11e.TokenNotPresent,
    p11e.FunctionFailed,
    p11e.SlotIDInvalid,
    p11e.SessionHandleInvalid,
)


def _is_module_broken(exc: p11e.PKCS11Error) -> bool:
    # python-pkcs11 reports CKR_CRYPTOKI_NOT_INITIALIZED as a bare PKCS11Error
    return isinstance(exc, _MODULE_BROKEN) or type(exc) is p11e.PKCS11Error


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- calls python-pkcs11 does not offer --------------------------------------------------------

_CKR_OK = 0x0
_CKR_USER_ALREADY_LOGGED_IN = 0x100
_CKU_USER = 1
_CKS_RO_USER_FUNCTIONS = 1
_CKS_RW_USER_FUNCTIONS = 4
_CKR_ERRORS: dict[int, type[p11e.PKCS11Error]] = {
    0x005: p11e.GeneralError,
    0x006: p11e.FunctionFailed,
    0x030: p11e.DeviceError,
    0x031: p11e.DeviceMemory,
    0x032: p11e.DeviceRemoved,
    0x0A0: p11e.PinIncorrect,
    0x0A1: p11e.PinInvalid,
    0x0A2: p11e.PinLenRange,
    0x0A3: p11e.PinExpired,
    0x0A4: p11e.PinLocked,
    0x0B0: p11e.SessionClosed,
    0x0B3: p11e.SessionHandleInvalid,
    0x0E0: p11e.TokenNotPresent,
    0x102: p11e.UserPinNotInitialized,
    0x104: p11e.AnotherUserAlreadyLoggedIn,
}  # anything else (e.g. CKR_CRYPTOKI_NOT_INITIALIZED) becomes a bare PKCS11Error, as in python-pkcs11


def _raise_for(rv: int, function: str) -> NoReturn:
    raise _CKR_ERRORS.get(rv, p11e.PKCS11Error)(f"{function} failed (CKR 0x{rv:x})")


# CK_FUNCTION_LIST up to C_Login; the layout is fixed by the standard (2.x and 3.x alike).
_FUNCTION_LIST_HEAD = (
    "C_Initialize",
    "C_Finalize",
    "C_GetInfo",
    "C_GetFunctionList",
    "C_GetSlotList",
    "C_GetSlotInfo",
    "C_GetTokenInfo",
    "C_GetMechanismList",
    "C_GetMechanismInfo",
    "C_InitToken",
    "C_InitPIN",
    "C_SetPIN",
    "C_OpenSession",
    "C_CloseSession",
    "C_CloseAllSessions",
    "C_GetSessionInfo",
    "C_GetOperationState",
    "C_SetOperationState",
    "C_Login",
)


class _FunctionListHead(ctypes.Structure):
    if sys.platform == "win32":  # the PKCS#11 headers pack structures to one byte there
        _pack_ = 1
    _fields_ = [("version", ctypes.c_ubyte * 2), *((name, ctypes.c_void_p) for name in _FUNCTION_LIST_HEAD)]
    C_GetSessionInfo: int | None
    C_Login: int | None


class _SessionInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_ulong) for name in ("slot_id", "state", "flags", "device_error")]
    state: int


_ULONG = ctypes.c_ulong
_C_LOGIN = ctypes.CFUNCTYPE(_ULONG, _ULONG, _ULONG, ctypes.c_char_p, _ULONG)
_C_GET_SESSION_INFO = ctypes.CFUNCTYPE(_ULONG, _ULONG, ctypes.POINTER(_SessionInfo))


class _Cryptoki:
    """``C_Login`` and ``C_GetSessionInfo`` on open sessions, which python-pkcs11 does not expose.

    Bound through ``C_GetFunctionList`` of the same, already loaded library, so the calls act on
    python-pkcs11's instance and its sessions.
    """

    def __init__(self, path: str) -> None:
        self._library = ctypes.CDLL(path)
        get_function_list = self._library.C_GetFunctionList
        get_function_list.argtypes = [ctypes.POINTER(ctypes.POINTER(_FunctionListHead))]
        get_function_list.restype = _ULONG
        table = ctypes.POINTER(_FunctionListHead)()
        rv = get_function_list(ctypes.byref(table))
        if rv != _CKR_OK or not table or not table.contents.C_Login or not table.contents.C_GetSessionInfo:
            _raise_for(rv, "C_GetFunctionList")
        self._login = _C_LOGIN(table.contents.C_Login)
        self._session_info = _C_GET_SESSION_INFO(table.contents.C_GetSessionInfo)

    def login(self, session_handle: int, pin: str) -> bool:
        """Log the user in; False if this process was logged in to the token already."""
        secret = pin.encode("utf-8")
        rv = int(self._login(session_handle, _CKU_USER, secret, len(secret)))
        if rv == _CKR_USER_ALREADY_LOGGED_IN:
            return False
        if rv != _CKR_OK:
            _raise_for(rv, "C_Login")
        return True

    def logged_in(self, session_handle: int) -> bool:
        """Whether the session is in a user state; raises for a dead session or module."""
        info = _SessionInfo()
        rv = int(self._session_info(session_handle, ctypes.byref(info)))
        if rv != _CKR_OK:
            _raise_for(rv, "C_GetSessionInfo")
        return info.state in (_CKS_RO_USER_FUNCTIONS, _CKS_RW_USER_FUNCTIONS)


# --- the module, per process --------------------------------------------------------------------


class _Module:
    """One PKCS#11 library as initialised in this process, with the lock that serialises its calls."""

    def __init__(self, path: str, lib: Any, cryptoki: _Cryptoki) -> None:
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


_TOKEN_RESCAN_INTERVAL = 10.0
_REINITIALISE_ATTEMPTS = 3
_modules: dict[str, _Module] = {}
_modules_lock = threading.Lock()
_fork_lock = threading.Lock()
_import_pid = os.getpid()


def _renew_locks_in_child() -> None:
    # another thread may have held these at fork time; the child must not inherit them locked
    global _modules_lock, _fork_lock
    _modules_lock = threading.Lock()
    _fork_lock = threading.Lock()


os.register_at_fork(after_in_child=_renew_locks_in_child)


def _module(path: str) -> _Module:
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
            entry = _Module(path, lib, _Cryptoki(path))
        except (p11e.PKCS11Error, OSError) as exc:
            raise KeyStoreUnavailableError(f"cannot load PKCS#11 module {path!r}: {_describe(exc)}") from exc
        _modules[path] = entry
        return entry


def call_lock(path: str) -> threading.RLock:
    """The lock serialising calls into the module at ``path`` in this process (loading it if needed).

    Code that calls the same module directly, beside the key stores (tools, tests), must hold it.
    """
    return _module(path).lock


# --- the store ----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Lease:
    """A pooled, logged-in session and the private-key handles found through it."""

    session: Any
    generation: int
    module: _Module
    epoch: int
    keys: dict[tuple[str, bytes], Any] = field(default_factory=dict)


_Choice = tuple[Mechanism, Any, bytes]  # mechanism, mechanism parameter, payload to sign


class PKCS11KeyStore(KeyStore):
    """Keys on one token of a PKCS#11 module, used through a pool of ``pool_size`` sessions.

    PKCS#11 login state belongs to the process, not to a store: if something else in this process
    is logged in to the same token, this store's PIN is not checked again.
    """

    def __init__(
        self,
        module: str,
        token_label: str,
        pin: str,
        pool_size: int = 4,
        *,
        acquire_timeout: float = 30.0,
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        if not pin:
            raise KeyStoreError("the PKCS#11 key store needs a user PIN")
        self._module_path = module
        self._token_label = token_label
        self._pin = pin
        self._pool_size = pool_size
        self._acquire_timeout = acquire_timeout
        self._pin_rejected: str | None = None
        self._public_keys: dict[tuple[str, bytes], CertificateIssuerPublicKeyTypes] = {}
        self._generation = 0
        self._reset_process_state()

    def _reset_process_state(self) -> None:
        """Fresh locks, no sessions and no token handle: for a new store or a forked child."""
        self._pid = os.getpid()
        self._cond = threading.Condition(threading.Lock())
        self._generate_lock = threading.Lock()
        self._idle: list[_Lease] = []
        self._open_count = 0  # sessions alive: idle, lent out, or being opened
        self._generation += 1
        self._token: Any = None
        self._token_epoch = -1
        self._mechanisms: frozenset[Mechanism] = frozenset()

    def __repr__(self) -> str:  # never the PIN
        return (
            f"PKCS11KeyStore(module={self._module_path!r}, token_label={self._token_label!r}, "
            f"pool_size={self._pool_size})"
        )

    @property
    def module(self) -> str:
        return self._module_path

    @property
    def token_label(self) -> str:
        return self._token_label

    # -- KeyStore --------------------------------------------------------------------------------

    def generate(self, label: KeyLabel | str, spec: KeySpec) -> CertificateIssuerPrivateKeyTypes:
        """Generate a non-extractable token key pair sharing a random 16-byte CKA_ID.

        Labels follow the software store's rules, so keys can move between back-ends. The label
        check and the generation are atomic within this process, not across processes. If the token
        fails after generating but before answering, the retry reports KeyExistsError.
        """
        name = check_label(str(label))
        self._check_pid()
        with self._generate_lock:  # the exists-check and the generation must not interleave
            key_id, public = self._run(f"generating key {name!r}", lambda lease: self._generate(lease, name, spec))
        return self._wrap(name, key_id, public)

    def find(self, label: KeyLabel | str) -> CertificateIssuerPrivateKeyTypes:
        """Look the key up on the token (each call) and return a signing handle; keep and reuse it."""
        name = str(label)
        key_id, public = self._run(f"looking up key {name!r}", lambda lease: self._describe_key(lease, name))
        return self._wrap(name, key_id, public)

    def labels(self) -> list[str]:
        def op(lease: _Lease) -> list[str]:
            return sorted({str(key.label) for key in self._search(lease, {Attribute.CLASS: ObjectClass.PRIVATE_KEY})})

        return self._run("listing keys", op)

    def exists(self, label: KeyLabel | str) -> bool:
        name = str(label)
        return self._run(f"looking up key {name!r}", lambda lease: bool(self._private_keys(lease, name)))

    def check(self) -> None:
        def probe(lease: _Lease) -> None:
            self._search(lease, {Attribute.CLASS: ObjectClass.PRIVATE_KEY})

        self._run("checking the token", probe)

    def close(self) -> None:
        """Close the idle sessions now and lent-out ones when they come back; later use reconnects."""
        if self._pid != os.getpid():
            self._check_pid()
            return
        with self._cond:
            self._generation += 1
            idle, self._idle = self._idle, []
            self._open_count -= len(idle)
            self._cond.notify_all()
        self._close_sessions(idle)

    # -- operations (run with a lent session, under the module lock) ----------------------------

    def _generate(self, lease: _Lease, name: str, spec: KeySpec) -> tuple[bytes, CertificateIssuerPublicKeyTypes]:
        if self._private_keys(lease, name):
            raise KeyExistsError(name)
        key_type, key_length, mechanism, public_extra = self._key_parameters(spec)
        if mechanism not in self._mechanisms:
            raise UnsupportedAlgorithmError(
                f"token {self._token_label!r} cannot generate {spec.algorithm} keys (no CKM_{mechanism.name})"
            )
        key_id = os.urandom(16)
        public_template = {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.VERIFY: True,
            Attribute.ENCRYPT: False,
            Attribute.WRAP: False,
            **public_extra,
        }
        private_template = {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
            Attribute.DECRYPT: False,
            Attribute.UNWRAP: False,
            Attribute.DERIVE: False,
        }
        public, private = lease.session.generate_keypair(
            key_type,
            key_length,
            id=key_id,
            label=name,
            store=True,
            capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
            mechanism=mechanism,
            public_template=public_template,
            private_template=private_template,
        )
        lease.keys[(name, key_id)] = private
        public_key = self._public_key_from(public, key_type, name)
        self._public_keys[(name, key_id)] = public_key
        return key_id, public_key

    @staticmethod
    def _key_parameters(spec: KeySpec) -> tuple[KeyType, int | None, Mechanism, dict[Attribute, Any]]:
        if spec.family == "rsa":
            extra = {Attribute.PUBLIC_EXPONENT: b"\x01\x00\x01"}
            return KeyType.RSA, spec.rsa_bits, Mechanism.RSA_PKCS_KEY_PAIR_GEN, extra
        if spec.family == "ec":
            return KeyType.EC, None, Mechanism.EC_KEY_PAIR_GEN, {Attribute.EC_PARAMS: _EC_PARAMS[spec.curve]}
        return KeyType.EC_EDWARDS, None, Mechanism.EC_EDWARDS_KEY_PAIR_GEN, {Attribute.EC_PARAMS: _ED25519_PARAMS}

    def _describe_key(self, lease: _Lease, name: str) -> tuple[bytes, CertificateIssuerPublicKeyTypes]:
        private = self._private_key(lease, name, None)
        key_id = bytes(private.id)
        lease.keys[(name, key_id)] = private
        public = self._public_keys.get((name, key_id))
        if public is None:
            public = self._read_public_key(lease, private, name)
            self._public_keys[(name, key_id)] = public
        return key_id, public

    def _sign(self, label: str, key_id: bytes, choose: Callable[[frozenset[Mechanism]], _Choice]) -> bytes:
        def op(lease: _Lease) -> bytes:
            mechanism, parameter, payload = choose(self._mechanisms)
            private = lease.keys.get((label, key_id))
            if private is None:
                private = lease.keys[(label, key_id)] = self._private_key(lease, label, key_id)
            return bytes(private.sign(payload, mechanism=mechanism, mechanism_param=parameter))

        return self._run(f"signing with key {label!r}", op)

    def _private_keys(self, lease: _Lease, name: str, key_id: bytes | None = None) -> list[Any]:
        template: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: name}
        if key_id is not None:
            template[Attribute.ID] = key_id
        return self._search(lease, template)

    def _private_key(self, lease: _Lease, name: str, key_id: bytes | None) -> Any:
        found = self._private_keys(lease, name, key_id)
        if not found:
            raise KeyNotFoundError(name)
        if len(found) > 1:
            raise KeyStoreError(f"{len(found)} private keys on token {self._token_label!r} are labelled {name!r}")
        return found[0]

    def _read_public_key(self, lease: _Lease, private: Any, name: str) -> CertificateIssuerPublicKeyTypes:
        key_type = private.key_type
        template = {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.KEY_TYPE: key_type, Attribute.ID: private.id}
        publics = self._search(lease, template)
        if len(publics) != 1 and key_type == KeyType.RSA:
            return self._public_key_from(private, key_type, name)  # RSA private keys carry n and e
        if len(publics) != 1:
            raise KeyStoreError(f"key {name!r}: expected one public key object with its CKA_ID, found {len(publics)}")
        return self._public_key_from(publics[0], key_type, name)

    def _public_key_from(self, obj: Any, key_type: KeyType, name: str) -> CertificateIssuerPublicKeyTypes:
        if key_type == KeyType.RSA:
            modulus = int.from_bytes(obj[Attribute.MODULUS], "big")
            exponent = int.from_bytes(obj[Attribute.PUBLIC_EXPONENT], "big")
            return rsa.RSAPublicNumbers(exponent, modulus).public_key()
        params = bytes(obj[Attribute.EC_PARAMS])
        point = bytes(obj[Attribute.EC_POINT])
        if key_type == KeyType.EC and params in _CURVES:
            curve = _CURVES[params]
            return ec.EllipticCurvePublicKey.from_encoded_point(
                curve, _ec_point(point, 1 + 2 * -(-curve.key_size // 8))
            )
        if key_type == KeyType.EC_EDWARDS and params in _ED25519_NAMES:
            return ed25519.Ed25519PublicKey.from_public_bytes(_ec_point(point, 32))
        raise UnsupportedAlgorithmError(
            f"key {name!r} has an unsupported type ({key_type!r}, parameters {params.hex()})"
        )

    def _wrap(
        self, name: str, key_id: bytes, public: CertificateIssuerPublicKeyTypes
    ) -> CertificateIssuerPrivateKeyTypes:
        if isinstance(public, rsa.RSAPublicKey):
            return PKCS11RSAPrivateKey(self, name, key_id, public)
        if isinstance(public, ec.EllipticCurvePublicKey):
            return PKCS11ECPrivateKey(self, name, key_id, public)
        if isinstance(public, ed25519.Ed25519PublicKey):
            return PKCS11Ed25519PrivateKey(self, name, key_id, public)
        raise UnsupportedAlgorithmError(f"key {name!r} has an unsupported type {type(public).__name__}")

    # -- sessions --------------------------------------------------------------------------------

    def _run(self, what: str, operation: Callable[[_Lease], _T]) -> _T:
        """Run ``operation`` with a lent session; after a session or token failure reconnect and retry once."""
        failure: p11e.PKCS11Error | None = None
        while True:
            lease = self._borrow()
            with lease.module.lock:
                if lease.epoch != lease.module.epoch:  # module re-initialised: its handles mean nothing now
                    self._discard(lease, close=False)
                    continue
                try:
                    result = operation(lease)
                except p11e.PKCS11Error as exc:
                    if isinstance(exc, _REFUSED):
                        # rare; the session may be mid-operation in python-pkcs11's eyes: do not reuse it
                        self._discard(lease, reset=False)
                        error = UnsupportedAlgorithmError if isinstance(exc, _UNSUPPORTED) else KeyStoreError
                        raise error(f"{what}: token {self._token_label!r} refused ({_describe(exc)})") from exc
                    self._discard(lease)
                    if failure is not None:
                        raise KeyStoreUnavailableError(
                            f"{what} failed on token {self._token_label!r} even after reconnecting: {_describe(exc)}"
                        ) from exc
                    _log.warning(
                        "%s failed on PKCS#11 token %r (%s); reconnecting and retrying once",
                        what,
                        self._token_label,
                        _describe(exc),
                    )
                    failure = exc
                    continue
                except BaseException:
                    self._give_back(lease)
                    raise
            self._give_back(lease)
            return result

    def _check_pid(self) -> None:
        if self._pid == os.getpid():
            return
        with _fork_lock:
            if self._pid != os.getpid():
                _log.info(
                    "process forked: PKCS#11 store for token %r reconnects in pid %d", self._token_label, os.getpid()
                )
                self._reset_process_state()  # the parent's sessions are dropped, not closed

    def _borrow(self) -> _Lease:
        self._check_pid()
        deadline = time.monotonic() + self._acquire_timeout
        with self._cond:
            while not self._idle and self._open_count >= self._pool_size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise KeyStoreUnavailableError(
                        f"no free session on token {self._token_label!r} within {self._acquire_timeout:g} s "
                        f"(pool_size={self._pool_size})"
                    )
                self._cond.wait(remaining)
            if self._idle:
                return self._idle.pop()
            self._open_count += 1
            generation = self._generation
        try:
            return self._open_session(generation)
        except BaseException:
            with self._cond:
                self._open_count -= 1
                self._cond.notify()
            raise

    def _give_back(self, lease: _Lease) -> None:
        with self._cond:
            if lease.generation == self._generation:
                self._idle.append(lease)
                self._cond.notify()
                return
            self._open_count -= 1
            self._cond.notify()
        self._close_sessions([lease])  # returned after a reset or close()

    def _discard(self, lease: _Lease, *, close: bool = True, reset: bool = True) -> None:
        """Drop a session; on the first failure of a generation (``reset``) the idle ones and the token too."""
        stale: list[_Lease] = []
        with self._cond:
            self._open_count -= 1
            if reset and lease.generation == self._generation:
                self._generation += 1
                stale, self._idle = self._idle, []
                self._open_count -= len(stale)
                self._token = None
            self._cond.notify_all()
        self._close_sessions([lease, *stale] if close else stale)

    def _close_sessions(self, leases: list[_Lease]) -> None:
        for lease in leases:
            with lease.module.lock:
                if lease.epoch == lease.module.epoch and lease.module.pid == os.getpid():
                    with contextlib.suppress(p11e.PKCS11Error):
                        lease.session.close()  # opened without a PIN: C_CloseSession, no logout

    def _open_session(self, generation: int) -> _Lease:
        """Open and log in a session; if the module seems broken, re-initialise it and try again.

        A missing token counts too (at most every ``_TOKEN_RESCAN_INTERVAL`` seconds): tokens are
        only discovered by C_Initialize, and SoftHSM2 misses a token whose file another process is
        rewriting (at every login) while this one initialises, e.g. when gunicorn workers start.
        """
        module = _module(self._module_path)
        with module.lock:
            try:
                return self._open_on(module, generation)
            except p11e.PKCS11Error as exc:
                if not (_is_module_broken(exc) or self._may_rescan(exc, module)):
                    raise self._unavailable(exc) from exc
                error = exc
            for attempt in range(_REINITIALISE_ATTEMPTS):
                _log.warning(
                    "cannot open a session on PKCS#11 token %r (%s); re-initialising the module (%d/%d)",
                    self._token_label,
                    _describe(error),
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
                    if not (_is_module_broken(exc) or isinstance(exc, p11e.NoSuchToken)):
                        break
            raise self._unavailable(error) from error

    @staticmethod
    def _may_rescan(exc: p11e.PKCS11Error, module: _Module) -> bool:
        if not isinstance(exc, p11e.NoSuchToken):
            return False
        now = time.monotonic()
        if now - module.rescanned_at < _TOKEN_RESCAN_INTERVAL:
            return False  # a readiness probe must not re-initialise the module (and others' sessions) in a loop
        module.rescanned_at = now
        return True

    def _open_on(self, module: _Module, generation: int) -> _Lease:
        if self._token is None or self._token_epoch != module.epoch:
            token = module.lib.get_token(token_label=self._token_label)
            self._mechanisms = frozenset(token.slot.get_mechanisms())
            self._token, self._token_epoch = token, module.epoch
        session = self._token.open(rw=True)
        lease = _Lease(session, generation, module, module.epoch)
        try:
            self._log_in(lease)
        except BaseException:
            with contextlib.suppress(p11e.PKCS11Error):
                session.close()
            raise
        return lease

    def _log_in(self, lease: _Lease) -> bool:
        """Log in (True) unless this process already is (False); a rejected PIN is never retried."""
        if self._pin_rejected is not None:
            raise KeyStoreUnavailableError(self._pin_rejected)
        try:
            return lease.module.cryptoki.login(lease.session.handle, self._pin)
        except _PIN_REJECTED as exc:
            self._pin_rejected = (
                f"token {self._token_label!r} rejected the configured PIN ({type(exc).__name__}); "
                "not trying again so as not to lock the token: fix the PIN and restart"
            )
            raise KeyStoreUnavailableError(self._pin_rejected) from exc

    def _search(self, lease: _Lease, template: dict[Attribute, Any]) -> list[Any]:
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
            message = f"no token labelled {self._token_label!r} in PKCS#11 module {self._module_path!r}"
        elif isinstance(exc, p11e.MultipleTokensReturned):
            message = f"more than one token is labelled {self._token_label!r} in PKCS#11 module {self._module_path!r}"
        elif isinstance(exc, _PIN_REJECTED):
            message = f"token {self._token_label!r} rejected the configured PIN ({type(exc).__name__})"
        else:
            message = f"cannot open a session on token {self._token_label!r}: {_describe(exc)}"
        return KeyStoreUnavailableError(message)


# --- private keys as cryptography objects --------------------------------------------------------


def _refuse(label: str, action: str) -> NoReturn:
    raise TypeError(f"key {label!r} lives in a PKCS#11 token and cannot be {action}")


_PublicT = TypeVar("_PublicT")


class _TokenKey(Generic[_PublicT]):
    """What every token key handle shares: its label and key id, a cached public key, no export,
    and copies that are the same handle (the key itself never leaves the token)."""

    def __init__(self, store: PKCS11KeyStore, label: str, key_id: bytes, public: _PublicT) -> None:
        self._store, self._label, self._key_id, self._public = store, label, key_id, public

    @property
    def label(self) -> str:
        return self._label

    def private_bytes(
        self,
        encoding: _serialization.Encoding,
        format: _serialization.PrivateFormat,
        encryption_algorithm: _serialization.KeySerializationEncryption,
    ) -> bytes:
        _refuse(self._label, "exported")

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        return self


class PKCS11RSAPrivateKey(_TokenKey[rsa.RSAPublicKey], rsa.RSAPrivateKey):
    """An RSA key in a token: signs PKCS#1 v1.5 and PSS; decryption and export are refused."""

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def sign(
        self,
        data: bytes,
        padding: AsymmetricPadding,
        algorithm: Prehashed | hashes.HashAlgorithm | NoDigestInfo,
    ) -> bytes:
        if isinstance(padding, PKCS1v15):
            if isinstance(algorithm, NoDigestInfo):
                payload = bytes(data)  # the caller built the encoded message itself
            else:
                hash_algorithm, digest = _digest(data, algorithm)
                payload = _digest_info(hash_algorithm, digest)
            return self._store._sign(self._label, self._key_id, lambda _: (Mechanism.RSA_PKCS, None, payload))
        if isinstance(padding, PSS):
            if isinstance(algorithm, NoDigestInfo):
                raise ValueError("NoDigestInfo can only be used with PKCS1v15 padding")
            return self._sign_pss(data, padding, algorithm)
        raise UnsupportedAlgorithmError(f"RSA padding {padding.name!r} is not supported for signing")

    def _sign_pss(self, data: bytes, pss: PSS, algorithm: Prehashed | hashes.HashAlgorithm) -> bytes:
        hash_algorithm, digest = _digest(data, algorithm)
        mgf = pss.mgf
        if not isinstance(mgf, MGF1) or hash_algorithm.name not in _PSS_HASH or mgf._algorithm.name not in _PSS_HASH:
            raise UnsupportedAlgorithmError(f"RSA-PSS needs MGF1 and one of {', '.join(_PSS_HASH)}")
        salt = pss._salt_length
        maximum = calculate_max_pss_salt_length(self._public, hash_algorithm)
        if salt is PSS.MAX_LENGTH:
            salt = maximum
        elif salt is PSS.DIGEST_LENGTH:
            salt = hash_algorithm.digest_size
        elif not isinstance(salt, int):
            raise ValueError("PSS.AUTO is only valid for verification; choose a salt length to sign")
        if not 0 <= salt <= maximum:
            raise ValueError(f"PSS salt length {salt} is outside 0..{maximum} for this key and hash")
        hash_mechanism, _, combined = _PSS_HASH[hash_algorithm.name]
        parameter = (hash_mechanism, _PSS_HASH[mgf._algorithm.name][1], salt)
        prehashed = isinstance(algorithm, Prehashed)

        def choose(mechanisms: frozenset[Mechanism]) -> _Choice:
            if Mechanism.RSA_PKCS_PSS in mechanisms:
                return Mechanism.RSA_PKCS_PSS, parameter, digest
            if combined in mechanisms and not prehashed:  # token hashes the whole message itself
                return combined, parameter, bytes(data)
            raise UnsupportedAlgorithmError(f"token cannot sign RSA-PSS with {hash_algorithm.name}")

        return self._store._sign(self._label, self._key_id, choose)

    def decrypt(self, ciphertext: bytes, padding: AsymmetricPadding) -> bytes:
        _refuse(self._label, "used to decrypt (signing key)")

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        _refuse(self._label, "exported")

    def __repr__(self) -> str:
        return f"<PKCS11RSAPrivateKey {self._label!r} ({self.key_size} bits) on {self._store.token_label!r}>"


class PKCS11ECPrivateKey(_TokenKey[ec.EllipticCurvePublicKey], ec.EllipticCurvePrivateKey):
    """An EC key in a token: signs ECDSA (digest computed here, DER signature); no ECDH, no export."""

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.curve.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def sign(self, data: Buffer, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise UnsupportedAlgorithmError("only ECDSA signatures are supported")
        if signature_algorithm.deterministic_signing:
            raise UnsupportedAlgorithmError("a PKCS#11 token cannot sign deterministically (RFC 6979)")
        _, digest = _digest(data, signature_algorithm.algorithm)
        raw = self._store._sign(self._label, self._key_id, lambda _: (Mechanism.ECDSA, None, digest))
        half = len(raw) // 2  # PKCS#11 returns r || s, X.509 wants DER
        return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        _refuse(self._label, "used for key agreement (signing key)")

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        _refuse(self._label, "exported")

    def __repr__(self) -> str:
        return f"<PKCS11ECPrivateKey {self._label!r} ({self.curve.name}) on {self._store.token_label!r}>"


class PKCS11Ed25519PrivateKey(_TokenKey[ed25519.Ed25519PublicKey], ed25519.Ed25519PrivateKey):
    """An Ed25519 key in a token: pure EdDSA (CKM_EDDSA over the whole message); no export."""

    def public_key(self) -> ed25519.Ed25519PublicKey:
        return self._public

    def sign(self, data: Buffer) -> bytes:
        message = bytes(data)

        def choose(mechanisms: frozenset[Mechanism]) -> _Choice:
            if Mechanism.EDDSA not in mechanisms:
                raise UnsupportedAlgorithmError("token cannot sign EdDSA (no CKM_EDDSA)")
            return Mechanism.EDDSA, None, message

        return self._store._sign(self._label, self._key_id, choose)

    def private_bytes_raw(self) -> bytes:
        _refuse(self._label, "exported")

    def __repr__(self) -> str:
        return f"<PKCS11Ed25519PrivateKey {self._label!r} on {self._store.token_label!r}>"
