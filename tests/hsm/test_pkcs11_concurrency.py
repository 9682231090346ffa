"""PKCS11KeyStore under threads and processes (fork and spawn), on one SoftHSM2 token."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes

from hsm.base import KeySpec
from hsm.pkcs11 import PKCS11KeyStore
from tests.hsm.conftest import verify
from tests.softhsm import SoftHSM, SoftHSMToken

Signature = tuple[str, bytes, bytes]  # key label, message, signature
LABELS = ("ec", "rsa")

# the store a forked child inherits from the test process (set right before forking)
_inherited: PKCS11KeyStore | None = None


def _sign(store: PKCS11KeyStore, label: str, message: bytes) -> bytes:
    key = store.find(label)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def _sign_many(store: PKCS11KeyStore, tag: str, count: int) -> list[Signature]:
    results = []
    for i in range(count):
        label = LABELS[i % 2]
        message = f"{tag}/{i}/pid {os.getpid()}".encode()
        results.append((label, message, _sign(store, label, message)))
    return results


def _child_with_own_store(args: tuple[str, str, str, int]) -> tuple[int, list[Signature]]:
    """Runs in a fork or spawn child: a store built there, on the shared token."""
    module, token_label, pin, n = args
    store = PKCS11KeyStore(module=module, token_label=token_label, pin=pin, pool_size=2)
    try:
        return os.getpid(), _sign_many(store, f"child-{n}", 20)
    finally:
        store.close()


def _child_with_inherited_store(n: int) -> tuple[int, list[Signature]]:
    """Runs in a fork child: uses the store object built in the parent before the fork."""
    assert _inherited is not None
    return os.getpid(), _sign_many(_inherited, f"inherited-{n}", 20)


@pytest.fixture(scope="module")
def shared(softhsm: SoftHSM) -> Iterator[tuple[SoftHSMToken, dict[str, CertificateIssuerPublicKeyTypes]]]:
    token = softhsm.make_token()
    store = token.key_store()
    publics = {
        "ec": store.generate("ec", KeySpec("ec-p256")).public_key(),
        "rsa": store.generate("rsa", KeySpec("rsa-2048")).public_key(),
    }
    yield token, publics
    token.close_stores()


def _verify_all(publics: dict[str, CertificateIssuerPublicKeyTypes], signatures: list[Signature]) -> None:
    for label, message, signature in signatures:
        verify(publics[label], signature, message)


@pytest.mark.hsm
def test_threads_share_a_small_pool(shared: tuple[SoftHSMToken, dict]) -> None:
    token, publics = shared
    store = token.key_store(pool_size=4)
    start = threading.Barrier(8)
    peak = []

    def work(n: int) -> list[Signature]:
        start.wait()
        signatures = _sign_many(store, f"thread-{n}", 50)
        peak.append(store._sessions.open_count)
        return signatures

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [signature for batch in pool.map(work, range(8)) for signature in batch]
    assert len(results) == 400
    _verify_all(publics, results)
    assert max(peak) <= 4


@pytest.mark.hsm
@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_processes_sign_with_keys_of_one_token(shared: tuple[SoftHSMToken, dict], method: str) -> None:
    token, publics = shared
    context = multiprocessing.get_context(method)
    jobs = [(token.module, token.label, token.pin, n) for n in range(3)]
    with context.Pool(3) as pool:
        results = pool.map(_child_with_own_store, jobs)
    assert all(pid != os.getpid() for pid, _ in results)
    _verify_all(publics, [signature for _, batch in results for signature in batch])


@pytest.mark.hsm
@pytest.mark.parametrize("used_before_fork", [False, True], ids=["unused", "used"])
def test_store_built_before_fork_works_in_the_children(
    shared: tuple[SoftHSMToken, dict], used_before_fork: bool
) -> None:
    """gunicorn --preload: the app (and its store) is built in the master, then workers fork."""
    global _inherited
    token, publics = shared
    _inherited = store = token.key_store(pool_size=2)
    if used_before_fork:
        _verify_all(publics, _sign_many(store, "parent-before", 4))  # the parent has live sessions now
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            results = pool.map(_child_with_inherited_store, range(2))
    finally:
        _inherited = None
    _verify_all(publics, [signature for _, batch in results for signature in batch])
    # the children re-initialised their copy of the module; the parent's sessions are untouched
    _verify_all(publics, _sign_many(store, "parent-after", 4))
