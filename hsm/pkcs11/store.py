"""The PKCS#11 key store: keys are generated in, found on and used through one token."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass

from hsm.base import KeyLabel, KeySpec, KeyStore
from hsm.errors import KeyExistsError, KeyNotFoundError, KeyStoreError, UnsupportedAlgorithmError
from hsm.pkcs11.encoding import CURVES, EC_PARAMS, ED25519_NAMES, ED25519_PARAMS, ec_point
from hsm.pkcs11.keys import Choice, PKCS11ECPrivateKey, PKCS11Ed25519PrivateKey, PKCS11RSAPrivateKey
from hsm.pkcs11.sessions import Lease, SessionPool
from hsm.software import check_label


class PKCS11KeyStore(KeyStore):
    """Keys on one token of a PKCS#11 module, used through a pool of ``pool_size`` sessions
    (:class:`hsm.pkcs11.sessions.SessionPool`).

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
        self._sessions = SessionPool(module, token_label, pin, pool_size, acquire_timeout)
        self._public_keys: dict[tuple[str, bytes], CertificateIssuerPublicKeyTypes] = {}

    def __repr__(self) -> str:  # never the PIN
        return (
            f"PKCS11KeyStore(module={self.module!r}, token_label={self.token_label!r}, "
            f"pool_size={self._sessions.pool_size})"
        )

    @property
    def module(self) -> str:
        return self._sessions.module_path

    @property
    def token_label(self) -> str:
        return self._sessions.token_label

    # -- KeyStore --------------------------------------------------------------------------------

    def generate(self, label: KeyLabel | str, spec: KeySpec) -> CertificateIssuerPrivateKeyTypes:
        """Generate a non-extractable token key pair sharing a random 16-byte CKA_ID.

        Labels follow the software store's rules, so keys can move between back-ends. The label
        check and the generation are atomic within this process, not across processes. If the token
        fails after generating but before answering, the retry reports KeyExistsError.
        """
        name = check_label(str(label))
        self._sessions.check_pid()
        with self._sessions.write_lock:  # the exists-check and the generation must not interleave
            key_id, public = self._sessions.run(
                f"generating key {name!r}", lambda lease: self._generate(lease, name, spec)
            )
        return self._wrap(name, key_id, public)

    def find(self, label: KeyLabel | str) -> CertificateIssuerPrivateKeyTypes:
        """Look the key up on the token (each call) and return a signing handle; keep and reuse it."""
        name = str(label)
        key_id, public = self._sessions.run(f"looking up key {name!r}", lambda lease: self._describe_key(lease, name))
        return self._wrap(name, key_id, public)

    def labels(self) -> list[str]:
        def op(lease: Lease) -> list[str]:
            found = self._sessions.search(lease, {Attribute.CLASS: ObjectClass.PRIVATE_KEY})
            return sorted({str(key.label) for key in found})

        return self._sessions.run("listing keys", op)

    def exists(self, label: KeyLabel | str) -> bool:
        name = str(label)
        return self._sessions.run(f"looking up key {name!r}", lambda lease: bool(self._private_keys(lease, name)))

    def check(self) -> None:
        def probe(lease: Lease) -> None:
            self._sessions.search(lease, {Attribute.CLASS: ObjectClass.PRIVATE_KEY})

        self._sessions.run("checking the token", probe)

    def close(self) -> None:
        """Close the idle sessions now and lent-out ones when they come back; later use reconnects."""
        self._sessions.close()

    # -- used by the key handles (hsm.pkcs11.keys) -----------------------------------------------

    def sign_with(self, label: str, key_id: bytes, choose: Callable[[frozenset[Mechanism]], Choice]) -> bytes:
        """Sign on the token with the mechanism, parameter and payload ``choose`` picks from the
        token's mechanisms."""

        def op(lease: Lease) -> bytes:
            mechanism, parameter, payload = choose(self._sessions.mechanisms)
            private = lease.keys.get((label, key_id))
            if private is None:
                private = lease.keys[(label, key_id)] = self._private_key(lease, label, key_id)
            return bytes(private.sign(payload, mechanism=mechanism, mechanism_param=parameter))

        return self._sessions.run(f"signing with key {label!r}", op)

    # -- operations (run with a lent session, under the module lock) ----------------------------

    def _generate(self, lease: Lease, name: str, spec: KeySpec) -> tuple[bytes, CertificateIssuerPublicKeyTypes]:
        if self._private_keys(lease, name):
            raise KeyExistsError(name)
        key_type, key_length, mechanism, public_extra = _key_parameters(spec)
        if mechanism not in self._sessions.mechanisms:
            raise UnsupportedAlgorithmError(
                f"token {self.token_label!r} cannot generate {spec.algorithm} keys (no CKM_{mechanism.name})"
            )
        key_id = os.urandom(16)
        public, private = lease.session.generate_keypair(
            key_type,
            key_length,
            id=key_id,
            label=name,
            store=True,
            capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
            mechanism=mechanism,
            public_template={**_PUBLIC_TEMPLATE, **public_extra},
            private_template=dict(_PRIVATE_TEMPLATE),
        )
        lease.keys[(name, key_id)] = private
        public_key = _public_key_from(public, key_type, name)
        self._public_keys[(name, key_id)] = public_key
        return key_id, public_key

    def _describe_key(self, lease: Lease, name: str) -> tuple[bytes, CertificateIssuerPublicKeyTypes]:
        private = self._private_key(lease, name, None)
        key_id = bytes(private.id)
        lease.keys[(name, key_id)] = private
        public = self._public_keys.get((name, key_id))
        if public is None:
            public = self._read_public_key(lease, private, name)
            self._public_keys[(name, key_id)] = public
        return key_id, public

    def _private_keys(self, lease: Lease, name: str, key_id: bytes | None = None) -> list[Any]:
        template: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: name}
        if key_id is not None:
            template[Attribute.ID] = key_id
        return self._sessions.search(lease, template)

    def _private_key(self, lease: Lease, name: str, key_id: bytes | None) -> Any:
        found = self._private_keys(lease, name, key_id)
        if not found:
            raise KeyNotFoundError(name)
        if len(found) > 1:
            raise KeyStoreError(f"{len(found)} private keys on token {self.token_label!r} are labelled {name!r}")
        return found[0]

    def _read_public_key(self, lease: Lease, private: Any, name: str) -> CertificateIssuerPublicKeyTypes:
        key_type = private.key_type
        template = {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.KEY_TYPE: key_type, Attribute.ID: private.id}
        publics = self._sessions.search(lease, template)
        if len(publics) != 1 and key_type == KeyType.RSA:
            return _public_key_from(private, key_type, name)  # RSA private keys carry n and e
        if len(publics) != 1:
            raise KeyStoreError(f"key {name!r}: expected one public key object with its CKA_ID, found {len(publics)}")
        return _public_key_from(publics[0], key_type, name)

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


# Token keys: the public half readable, the private half sensitive, never extractable, sign only.
_PUBLIC_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: False,
    Attribute.VERIFY: True,
    Attribute.ENCRYPT: False,
    Attribute.WRAP: False,
}
_PRIVATE_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.DECRYPT: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}


def _key_parameters(spec: KeySpec) -> tuple[KeyType, int | None, Mechanism, dict[Attribute, Any]]:
    if spec.family == "rsa":
        extra = {Attribute.PUBLIC_EXPONENT: b"\x01\x00\x01"}
        return KeyType.RSA, spec.rsa_bits, Mechanism.RSA_PKCS_KEY_PAIR_GEN, extra
    if spec.family == "ec":
        return KeyType.EC, None, Mechanism.EC_KEY_PAIR_GEN, {Attribute.EC_PARAMS: EC_PARAMS[spec.curve]}
    return KeyType.EC_EDWARDS, None, Mechanism.EC_EDWARDS_KEY_PAIR_GEN, {Attribute.EC_PARAMS: ED25519_PARAMS}


def _public_key_from(obj: Any, key_type: KeyType, name: str) -> CertificateIssuerPublicKeyTypes:
    if key_type == KeyType.RSA:
        modulus = int.from_bytes(obj[Attribute.MODULUS], "big")
        exponent = int.from_bytes(obj[Attribute.PUBLIC_EXPONENT], "big")
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    params = bytes(obj[Attribute.EC_PARAMS])
    point = bytes(obj[Attribute.EC_POINT])
    if key_type == KeyType.EC and params in CURVES:
        curve = CURVES[params]
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, ec_point(point, 1 + 2 * -(-curve.key_size // 8)))
    if key_type == KeyType.EC_EDWARDS and params in ED25519_NAMES:
        return ed25519.Ed25519PublicKey.from_public_bytes(ec_point(point, 32))
    raise UnsupportedAlgorithmError(f"key {name!r} has an unsupported type ({key_type!r}, parameters {params.hex()})")
