"""How a PKCS#11 failure is treated: refused for good, a rejected PIN (never retried), or a
session or module that needs reconnecting."""

from __future__ import annotations

from pkcs11 import exceptions as p11e

# The token refused this particular request; reconnecting would not help.
UNSUPPORTED = (
    p11e.MechanismInvalid,
    p11e.MechanismParamInvalid,
    p11e.FunctionNotSupported,
    p11e.DomainParamsInvalid,
    p11e.KeySizeRange,
)
REFUSED = (
    *UNSUPPORTED,
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
PIN_REJECTED = (
    p11e.PinIncorrect,
    p11e.PinInvalid,
    p11e.PinLenRange,
    p11e.PinExpired,
    p11e.PinLocked,
    p11e.UserPinNotInitialized,
)
# Opening a session failed in a way that suggests the module itself needs re-initialising.
MODULE_BROKEN = (
    p11e.GeneralError,
    p11e.DeviceError,
    p11e.DeviceRemoved,
    p11e.TokenNotPresent,
    p11e.FunctionFailed,
    p11e.SlotIDInvalid,
    p11e.SessionHandleInvalid,
)


def is_module_broken(exc: p11e.PKCS11Error) -> bool:
    # python-pkcs11 reports CKR_CRYPTOKI_NOT_INITIALIZED as a bare PKCS11Error
    return isinstance(exc, MODULE_BROKEN) or type(exc) is p11e.PKCS11Error


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
