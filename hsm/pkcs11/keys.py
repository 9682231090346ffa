"""Token keys as ``cryptography`` private-key objects, so the X.509, CRL, OCSP and CMS builders
sign through them unchanged. Digests are computed in software and only the digest goes to the
token (except Ed25519, which signs the whole message)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, NoReturn, Protocol, Self, TypeVar

from cryptography.hazmat.primitives import _serialization, hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.padding import (
    MGF1,
    PSS,
    AsymmetricPadding,
    PKCS1v15,
    calculate_max_pss_salt_length,
)
from cryptography.hazmat.primitives.asymmetric.utils import NoDigestInfo, Prehashed, encode_dss_signature
from cryptography.utils import Buffer
from pkcs11 import Mechanism

from hsm.errors import UnsupportedAlgorithmError
from hsm.pkcs11.encoding import PSS_HASH, compute_digest, digest_info

Choice = tuple[Mechanism, Any, bytes]  # mechanism, mechanism parameter, payload to sign


class TokenSigner(Protocol):
    """What a key handle needs from its store (:class:`hsm.pkcs11.store.PKCS11KeyStore`)."""

    @property
    def token_label(self) -> str: ...

    def sign_with(self, label: str, key_id: bytes, choose: Callable[[frozenset[Mechanism]], Choice]) -> bytes: ...


def _refuse(label: str, action: str) -> NoReturn:
    raise TypeError(f"key {label!r} lives in a PKCS#11 token and cannot be {action}")


_PublicT = TypeVar("_PublicT")


class _TokenKey(Generic[_PublicT]):
    """What every token key handle shares: its label and key id, a cached public key, no export,
    and copies that are the same handle (the key itself never leaves the token)."""

    def __init__(self, store: TokenSigner, label: str, key_id: bytes, public: _PublicT) -> None:
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
                hash_algorithm, digest = compute_digest(data, algorithm)
                payload = digest_info(hash_algorithm, digest)
            return self._store.sign_with(self._label, self._key_id, lambda _: (Mechanism.RSA_PKCS, None, payload))
        if isinstance(padding, PSS):
            if isinstance(algorithm, NoDigestInfo):
                raise ValueError("NoDigestInfo can only be used with PKCS1v15 padding")
            return self._sign_pss(data, padding, algorithm)
        raise UnsupportedAlgorithmError(f"RSA padding {padding.name!r} is not supported for signing")

    def _sign_pss(self, data: bytes, pss: PSS, algorithm: Prehashed | hashes.HashAlgorithm) -> bytes:
        hash_algorithm, digest = compute_digest(data, algorithm)
        mgf = pss.mgf
        if not isinstance(mgf, MGF1) or hash_algorithm.name not in PSS_HASH or mgf._algorithm.name not in PSS_HASH:
            raise UnsupportedAlgorithmError(f"RSA-PSS needs MGF1 and one of {', '.join(PSS_HASH)}")
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
        hash_mechanism, _, combined = PSS_HASH[hash_algorithm.name]
        parameter = (hash_mechanism, PSS_HASH[mgf._algorithm.name][1], salt)
        prehashed = isinstance(algorithm, Prehashed)

        def choose(mechanisms: frozenset[Mechanism]) -> Choice:
            if Mechanism.RSA_PKCS_PSS in mechanisms:
                return Mechanism.RSA_PKCS_PSS, parameter, digest
            if combined in mechanisms and not prehashed:  # token hashes the whole message itself
                return combined, parameter, bytes(data)
            raise UnsupportedAlgorithmError(f"token cannot sign RSA-PSS with {hash_algorithm.name}")

        return self._store.sign_with(self._label, self._key_id, choose)

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
        _, digest = compute_digest(data, signature_algorithm.algorithm)
        raw = self._store.sign_with(self._label, self._key_id, lambda _: (Mechanism.ECDSA, None, digest))
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

        def choose(mechanisms: frozenset[Mechanism]) -> Choice:
            if Mechanism.EDDSA not in mechanisms:
                raise UnsupportedAlgorithmError("token cannot sign EdDSA (no CKM_EDDSA)")
            return Mechanism.EDDSA, None, message

        return self._store.sign_with(self._label, self._key_id, choose)

    def private_bytes_raw(self) -> bytes:
        _refuse(self._label, "exported")

    def __repr__(self) -> str:
        return f"<PKCS11Ed25519PrivateKey {self._label!r} on {self._store.token_label!r}>"
