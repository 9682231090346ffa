"""PKCS11KeyStore when the token is unusable or goes away: lazy start, clear errors, recovery."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pkcs11
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pkcs11 import exceptions as p11e

from hsm.base import KeySpec
from hsm.errors import KeyStoreUnavailableError
from hsm.pkcs11 import PKCS11KeyStore
from tests.hsm.conftest import verify
from tests.softhsm import SoftHSMToken

ROOT = Path(__file__).resolve().parents[2]
SECRET_PIN = "do-not-print-me-7391"


def _sign_ok(store: PKCS11KeyStore, label: str = "k") -> None:
    key = store.find(label)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    verify(key.public_key(), key.sign(b"data", ec.ECDSA(hashes.SHA256())), b"data")


@pytest.mark.hsm
def test_nothing_is_loaded_or_opened_before_first_use(softhsm_token: SoftHSMToken) -> None:
    script = """
import sys
from hsm.pkcs11 import PKCS11KeyStore
def loaded():
    with open("/proc/self/maps") as maps:
        return "libsofthsm2" in maps.read()
store = PKCS11KeyStore(module=sys.argv[1], token_label=sys.argv[2], pin=sys.argv[3], pool_size=2)
print(loaded())
store.check()
print(loaded())
"""
    result = subprocess.run(
        [sys.executable, "-c", script, softhsm_token.module, softhsm_token.label, softhsm_token.pin],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.hsm
def test_wrong_module_path_is_reported_by_check_not_init() -> None:
    store = PKCS11KeyStore(module="/nonexistent/libnothing.so", token_label="t", pin=SECRET_PIN)
    with pytest.raises(
        KeyStoreUnavailableError, match=r"cannot load PKCS#11 module '/nonexistent/libnothing.so'"
    ) as err:
        store.check()
    assert SECRET_PIN not in str(err.value) and SECRET_PIN not in repr(store)
    with pytest.raises(KeyStoreUnavailableError):
        store.find("anything")


@pytest.mark.hsm
def test_missing_token(softhsm_token: SoftHSMToken) -> None:
    store = PKCS11KeyStore(module=softhsm_token.module, token_label="no-such-token", pin=SECRET_PIN)
    with pytest.raises(KeyStoreUnavailableError, match="no token labelled 'no-such-token'") as err:
        store.check()
    assert err.value.code == "key_store_unavailable"
    assert SECRET_PIN not in str(err.value)


@pytest.mark.hsm
def test_wrong_pin_is_reported_and_never_retried(softhsm_token: SoftHSMToken) -> None:
    wrong = PKCS11KeyStore(module=softhsm_token.module, token_label=softhsm_token.label, pin=SECRET_PIN)
    with pytest.raises(KeyStoreUnavailableError, match="rejected the configured PIN") as err:
        wrong.check()
    assert "PinIncorrect" in str(err.value)
    assert SECRET_PIN not in str(err.value) and SECRET_PIN not in repr(wrong)
    with pytest.raises(KeyStoreUnavailableError, match="not trying again"):
        wrong.labels()
    wrong.close()

    right = softhsm_token.key_store()
    right.check()
    assert right.labels() == []


@pytest.mark.hsm
def test_sessions_closed_behind_its_back(softhsm_token: SoftHSMToken, caplog: pytest.LogCaptureFixture) -> None:
    store = softhsm_token.key_store(pool_size=2)
    store.generate("k", KeySpec("ec-p256"))
    _sign_ok(store)

    # C_CloseAllSessions also ends the login: the store must reopen *and* log in again
    softhsm_token.close_all_sessions()
    with caplog.at_level(logging.WARNING, logger="hsm.pkcs11"):
        _sign_ok(store)
    assert "reconnecting and retrying once" in caplog.text
    assert softhsm_token.pin not in caplog.text

    softhsm_token.close_all_sessions()
    assert store.labels() == ["k"]  # a logged-out search would silently find nothing
    softhsm_token.close_all_sessions()
    store.check()
    _sign_ok(store)


@pytest.mark.hsm
def test_module_finalised_behind_its_back(softhsm_token: SoftHSMToken) -> None:
    store = softhsm_token.key_store()
    store.generate("k", KeySpec("ec-p256"))
    _sign_ok(store)
    pkcs11.lib(softhsm_token.module).finalize()  # every session and handle of the process is gone
    _sign_ok(store)
    assert store.labels() == ["k"]


@pytest.mark.hsm
def test_persistent_failure_becomes_unavailable_after_one_retry(
    softhsm_token: SoftHSMToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = softhsm_token.key_store()
    store.generate("k", KeySpec("ec-p256"))
    key = store.find("k")
    calls = []

    def broken(*args: object) -> None:
        calls.append(args)
        raise p11e.DeviceError()

    monkeypatch.setattr(store, "_private_key", broken)
    monkeypatch.setattr(store._sessions, "_close_sessions", lambda leases: None)  # keep pooled handles untouched
    with pytest.raises(KeyStoreUnavailableError, match="even after reconnecting: DeviceError"):
        store.find("k")
    assert len(calls) == 2
    monkeypatch.undo()
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    verify(key.public_key(), key.sign(b"data", ec.ECDSA(hashes.SHA256())), b"data")


@pytest.mark.hsm
def test_pool_exhaustion_times_out(softhsm_token: SoftHSMToken) -> None:
    store = softhsm_token.key_store(pool_size=1, acquire_timeout=0.1)
    store.check()
    lease = store._sessions.borrow()  # one thread holds the only session
    try:
        with pytest.raises(KeyStoreUnavailableError, match=r"no free session .*pool_size=1"):
            store.check()
    finally:
        store._sessions.give_back(lease)
    store.check()


@pytest.mark.hsm
def test_close_then_use_again(softhsm_token: SoftHSMToken) -> None:
    store = softhsm_token.key_store()
    store.generate("k", KeySpec("ec-p256"))
    store.close()
    _sign_ok(store)
    store.close()
    store.close()
    assert store.labels() == ["k"]
