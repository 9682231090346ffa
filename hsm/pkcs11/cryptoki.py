"""The two Cryptoki calls python-pkcs11 does not offer on open sessions (``C_Login``,
``C_GetSessionInfo``), bound with ctypes to the same loaded library."""

from __future__ import annotations

import ctypes
import sys
from typing import NoReturn

from pkcs11 import exceptions as p11e

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


class Cryptoki:
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
