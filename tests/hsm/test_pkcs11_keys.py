"""PKCS11KeyStore on a real SoftHSM2 token: generation, lookup, signing, and cryptography's builders."""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e

from hsm.base import ALGORITHMS, KeySpec
from hsm.errors import HSMError, KeyExistsError, KeyNotFoundError, KeyStoreError, UnsupportedAlgorithmError
from hsm.pkcs11 import PKCS11ECPrivateKey, PKCS11Ed25519PrivateKey, PKCS11KeyStore, PKCS11RSAPrivateKey
from tests.hsm.conftest import verify
from tests.softhsm import SoftHSM, SoftHSMToken

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
MESSAGE = b"sekap-trust signs this"


@pytest.fixture(scope="module")
def key_token(softhsm: SoftHSM) -> SoftHSMToken:
    return softhsm.make_token()


@pytest.fixture(scope="module")
def keyring(key_token: SoftHSMToken) -> Iterator[tuple[PKCS11KeyStore, dict[str, CertificateIssuerPrivateKeyTypes]]]:
    """One key per algorithm, generated once (RSA-4096 takes seconds)."""
    store = key_token.key_store()
    mechanisms = _mechanisms(key_token)
    keys: dict[str, CertificateIssuerPrivateKeyTypes] = {}
    for algorithm in ALGORITHMS:
        if algorithm == "ed25519" and Mechanism.EC_EDWARDS_KEY_PAIR_GEN not in mechanisms:
            with pytest.raises(UnsupportedAlgorithmError, match="ed25519"):
                store.generate(algorithm, KeySpec(algorithm))
            continue
        keys[algorithm] = store.generate(f"key-{algorithm}", KeySpec(algorithm))
    yield store, keys
    key_token.close_stores()


def _mechanisms(token: SoftHSMToken) -> set[Mechanism]:
    import pkcs11

    return set(pkcs11.lib(token.module).get_token(token_label=token.label).slot.get_mechanisms())


def _hash_for(key: CertificateIssuerPrivateKeyTypes) -> hashes.HashAlgorithm | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _sign(key: CertificateIssuerPrivateKeyTypes, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key.sign(data)


def _self_signed(key: CertificateIssuerPrivateKeyTypes, cn: str, **sign_kwargs: object) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    return builder.sign(key, _hash_for(key), **sign_kwargs)  # type: ignore[arg-type]


EXPECTED_TYPES = {
    "ec-p256": (PKCS11ECPrivateKey, ec.EllipticCurvePrivateKey, 256),
    "ec-p384": (PKCS11ECPrivateKey, ec.EllipticCurvePrivateKey, 384),
    "ec-p521": (PKCS11ECPrivateKey, ec.EllipticCurvePrivateKey, 521),
    "rsa-2048": (PKCS11RSAPrivateKey, rsa.RSAPrivateKey, 2048),
    "rsa-3072": (PKCS11RSAPrivateKey, rsa.RSAPrivateKey, 3072),
    "rsa-4096": (PKCS11RSAPrivateKey, rsa.RSAPrivateKey, 4096),
    "ed25519": (PKCS11Ed25519PrivateKey, ed25519.Ed25519PrivateKey, 256),
}


@pytest.mark.hsm
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_generate_find_sign_verify(keyring: tuple[PKCS11KeyStore, dict], algorithm: str) -> None:
    store, keys = keyring
    if algorithm not in keys:
        pytest.fail(f"SoftHSM2 lacks {algorithm}; the keyring fixture asserted UnsupportedAlgorithmError")
    generated = keys[algorithm]
    ours, abc_type, bits = EXPECTED_TYPES[algorithm]
    assert isinstance(generated, ours) and isinstance(generated, abc_type)
    if not isinstance(generated, ed25519.Ed25519PrivateKey):
        assert generated.key_size == bits

    found = store.find(f"key-{algorithm}")
    assert type(found) is ours
    assert found.public_key() == generated.public_key()
    assert store.public_key(f"key-{algorithm}") == generated.public_key()

    signature = _sign(found, MESSAGE)
    verify(found.public_key(), signature, MESSAGE, _hash_for(found))
    with pytest.raises(InvalidSignature):
        verify(found.public_key(), signature, MESSAGE + b"!", _hash_for(found))


@pytest.mark.hsm
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_certificate_crl_and_ocsp_signed_in_the_token(keyring: tuple[PKCS11KeyStore, dict], algorithm: str) -> None:
    _, keys = keyring
    key = keys[algorithm]
    public = key.public_key()
    algorithm_hash = _hash_for(key)

    cert = _self_signed(key, f"HSM {algorithm} CA")
    cert.verify_directly_issued_by(cert)
    assert cert.public_key() == public

    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(cert.subject)
        .last_update(NOW)
        .next_update(NOW + dt.timedelta(days=1))
        .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(42).revocation_date(NOW).build())
        .sign(key, algorithm_hash)  # type: ignore[arg-type]
    )
    assert crl.is_signature_valid(public)  # type: ignore[arg-type]

    response = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=cert,
            issuer=cert,
            algorithm=hashes.SHA256(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=NOW,
            next_update=NOW + dt.timedelta(hours=1),
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, cert)
        .certificates([cert])
        .sign(key, algorithm_hash)
    )
    parsed = ocsp.load_der_ocsp_response(response.public_bytes(serialization.Encoding.DER))
    verify(public, parsed.signature, parsed.tbs_response_bytes, algorithm_hash)


@pytest.mark.hsm
@pytest.mark.parametrize("salt", [padding.PSS.DIGEST_LENGTH, padding.PSS.MAX_LENGTH, 0, 20])
@pytest.mark.parametrize("hash_cls", [hashes.SHA256, hashes.SHA384, hashes.SHA512])
def test_rsa_pss(keyring: tuple[PKCS11KeyStore, dict], hash_cls: type[hashes.HashAlgorithm], salt: object) -> None:
    key = keyring[1]["rsa-2048"]
    pss = padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=salt)  # type: ignore[arg-type]
    signature = key.sign(MESSAGE, pss, hash_cls())
    # AUTO recovers the salt length on verification; the exact one must verify too
    verify(key.public_key(), signature, MESSAGE, hash_cls(), padding.PSS(padding.MGF1(hash_cls()), padding.PSS.AUTO))
    if isinstance(salt, int):
        verify(key.public_key(), signature, MESSAGE, hash_cls(), padding.PSS(padding.MGF1(hash_cls()), salt))


@pytest.mark.hsm
def test_rsa_pss_certificate_and_prehashed(keyring: tuple[PKCS11KeyStore, dict]) -> None:
    key = keyring[1]["rsa-3072"]
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    cert = _self_signed(key, "PSS CA", rsa_padding=pss)
    cert.verify_directly_issued_by(cert)
    assert cert.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.RSASSA_PSS

    digest = hashes.Hash(hashes.SHA384())
    digest.update(MESSAGE)
    prehashed = Prehashed(hashes.SHA384())
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    signature = key.sign(digest.copy().finalize(), pss, prehashed)
    verify(key.public_key(), signature, MESSAGE, hashes.SHA384(), pss)
    signature = key.sign(digest.copy().finalize(), padding.PKCS1v15(), prehashed)
    verify(key.public_key(), signature, MESSAGE, hashes.SHA384())
    # SoftHSM2 insists on the MGF1 hash matching the message hash: a clear refusal, not an outage
    mixed = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=48)
    with pytest.raises(HSMError, match="refused") as refused:
        key.sign(digest.finalize(), mixed, prehashed)
    assert type(refused.value) is KeyStoreError  # not KeyStoreUnavailableError


@pytest.mark.hsm
@pytest.mark.parametrize(
    "hash_cls", [hashes.SHA224, hashes.SHA256, hashes.SHA384, hashes.SHA512, hashes.SHA3_256, hashes.SHA3_512]
)
def test_rsa_pkcs1v15_digest_infos(keyring: tuple[PKCS11KeyStore, dict], hash_cls: type[hashes.HashAlgorithm]) -> None:
    key = keyring[1]["rsa-2048"]
    verify(key.public_key(), key.sign(MESSAGE, padding.PKCS1v15(), hash_cls()), MESSAGE, hash_cls())


@pytest.mark.hsm
@pytest.mark.parametrize("curve", ["ec-p256", "ec-p384", "ec-p521"])
@pytest.mark.parametrize("hash_cls", [hashes.SHA256, hashes.SHA384, hashes.SHA512])
def test_ecdsa_every_curve_and_hash(
    keyring: tuple[PKCS11KeyStore, dict], curve: str, hash_cls: type[hashes.HashAlgorithm]
) -> None:
    key = keyring[1][curve]
    verify(key.public_key(), key.sign(MESSAGE, ec.ECDSA(hash_cls())), MESSAGE, hash_cls())
    digest = hashes.Hash(hash_cls())
    digest.update(MESSAGE)
    signature = key.sign(digest.finalize(), ec.ECDSA(Prehashed(hash_cls())))
    verify(key.public_key(), signature, MESSAGE, hash_cls())


@pytest.mark.hsm
@pytest.mark.interop
@pytest.mark.parametrize("algorithm", ["ec-p256", "rsa-2048"])
def test_pkcs7_signature_verified_by_openssl(
    keyring: tuple[PKCS11KeyStore, dict], algorithm: str, tmp_path: Path
) -> None:
    key = keyring[1][algorithm]
    cert = _self_signed(key, f"CMS {algorithm}")
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(MESSAGE)
        .add_signer(cert, key, hashes.SHA256())  # type: ignore[arg-type]
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    (tmp_path / "signed.p7").write_bytes(signed)
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "signed.p7"), "-binary", "-noverify"],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == MESSAGE


@pytest.mark.hsm
def test_refused_requests(keyring: tuple[PKCS11KeyStore, dict]) -> None:
    rsa_key, ec_key = keyring[1]["rsa-2048"], keyring[1]["ec-p256"]
    with pytest.raises(UnsupportedAlgorithmError, match="sha1"):
        rsa_key.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA1())
    with pytest.raises(UnsupportedAlgorithmError, match="sha1"):
        ec_key.sign(MESSAGE, ec.ECDSA(hashes.SHA1()))
    with pytest.raises(ValueError, match="AUTO"):
        rsa_key.sign(MESSAGE, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO), hashes.SHA256())
    with pytest.raises(ValueError, match="salt length"):
        rsa_key.sign(MESSAGE, padding.PSS(padding.MGF1(hashes.SHA256()), 4096), hashes.SHA256())
    with pytest.raises(ValueError, match="prehashed"):
        ec_key.sign(b"too short", ec.ECDSA(Prehashed(hashes.SHA256())))
    with pytest.raises(UnsupportedAlgorithmError, match="deterministic"):
        ec_key.sign(MESSAGE, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


@pytest.mark.hsm
def test_private_key_never_leaves_the_token(keyring: tuple[PKCS11KeyStore, dict], key_token: SoftHSMToken) -> None:
    keys = keyring[1]
    for algorithm, key in keys.items():
        with pytest.raises(TypeError, match="cannot be exported"):
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        if isinstance(key, ed25519.Ed25519PrivateKey):
            with pytest.raises(TypeError, match="cannot be exported"):
                key.private_bytes_raw()
        else:
            with pytest.raises(TypeError, match="cannot be exported"):
                key.private_numbers()
        assert copy.copy(key) is key and copy.deepcopy(key) is key
        assert algorithm in repr(key) and key_token.pin not in repr(key)
    with pytest.raises(TypeError, match="decrypt"):
        keys["rsa-2048"].decrypt(b"x" * 256, padding.PKCS1v15())
    with pytest.raises(TypeError, match="key agreement"):
        keys["ec-p256"].exchange(ec.ECDH(), ec.generate_private_key(ec.SECP256R1()).public_key())

    # the token's own view, through python-pkcs11 directly
    with key_token.session() as session:
        for algorithm in keys:
            private = session.get_key(ObjectClass.PRIVATE_KEY, label=f"key-{algorithm}")
            assert private[Attribute.TOKEN] is True
            assert private[Attribute.PRIVATE] is True
            assert private[Attribute.SENSITIVE] is True
            assert private[Attribute.ALWAYS_SENSITIVE] is True
            assert private[Attribute.EXTRACTABLE] is False
            assert private[Attribute.NEVER_EXTRACTABLE] is True
            assert private[Attribute.SIGN] is True
            assert private[Attribute.DECRYPT] is False
            assert private[Attribute.DERIVE] is False
            assert len(private.id) == 16
            public = session.get_key(ObjectClass.PUBLIC_KEY, id=private.id)
            assert public.label == f"key-{algorithm}"
            secret = Attribute.PRIVATE_EXPONENT if algorithm.startswith("rsa") else Attribute.VALUE
            with pytest.raises(p11e.AttributeSensitive):
                private[secret]


@pytest.mark.hsm
def test_labels_lookup_and_errors(store: PKCS11KeyStore, softhsm_token: SoftHSMToken) -> None:
    assert store.labels() == []
    store.generate("zeta", KeySpec("ec-p256"))
    store.generate("alpha", KeySpec("ec-p384"))
    assert store.labels() == ["alpha", "zeta"]
    assert store.exists("alpha") and not store.exists("beta")

    with pytest.raises(KeyExistsError) as exists:
        store.generate("alpha", KeySpec("rsa-2048"))
    assert exists.value.label == "alpha"
    assert store.labels() == ["alpha", "zeta"]  # nothing half-made
    with pytest.raises(KeyNotFoundError) as missing:
        store.find("beta")
    assert missing.value.label == "beta" and missing.value.code == "key_not_found"
    with pytest.raises(HSMError, match="invalid key label"):
        store.generate("no spaces", KeySpec("ec-p256"))

    assert softhsm_token.pin not in repr(store)
    assert softhsm_token.label in repr(store)


@pytest.mark.hsm
def test_key_deleted_behind_the_store(store: PKCS11KeyStore, softhsm_token: SoftHSMToken) -> None:
    key = store.generate("short-lived", KeySpec("ec-p256"))
    _sign(key, MESSAGE)  # handle cached in a pooled session
    with softhsm_token.session(rw=True) as session:
        for obj in session.get_objects({Attribute.LABEL: "short-lived"}):
            obj.destroy()
    with pytest.raises(KeyNotFoundError):
        _sign(key, MESSAGE)
    # a new key under the same label is a different key: the old handle never signs with it
    store.generate("short-lived", KeySpec("ec-p256"))
    with pytest.raises(KeyNotFoundError):
        _sign(key, MESSAGE)


@pytest.mark.hsm
def test_ed25519_on_a_token_without_eddsa(softhsm: SoftHSM, softhsm_token: SoftHSMToken, tmp_path: Path) -> None:
    """A second process whose SoftHSM2 hides the Edwards mechanisms must refuse clearly."""
    store = softhsm_token.key_store()
    if Mechanism.EC_EDWARDS_KEY_PAIR_GEN in _mechanisms(softhsm_token):
        store.generate("ed", KeySpec("ed25519"))
    # a positive list: SoftHSM 2.6 ignores "-CKM_..." exclusions
    mechanisms = "CKM_RSA_PKCS_KEY_PAIR_GEN,CKM_RSA_PKCS,CKM_EC_KEY_PAIR_GEN,CKM_ECDSA"
    conf = softhsm.write_config(tmp_path / "no-eddsa.conf", **{"slots.mechanisms": mechanisms})
    script = """
import sys
from hsm.base import KeySpec
from hsm.errors import UnsupportedAlgorithmError
from hsm.pkcs11 import PKCS11KeyStore
store = PKCS11KeyStore(module=sys.argv[1], token_label=sys.argv[2], pin=sys.argv[3])
try:
    store.generate("ed-2", KeySpec("ed25519"))
except UnsupportedAlgorithmError as exc:
    print("generate:", exc)
if store.exists("ed"):
    try:
        store.find("ed").sign(b"x")
    except UnsupportedAlgorithmError as exc:
        print("sign:", exc)
"""
    result = subprocess.run(
        [sys.executable, "-c", script, softhsm_token.module, softhsm_token.label, softhsm_token.pin],
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "generate:" in result.stdout and "ed25519" in result.stdout and "EC_EDWARDS_KEY_PAIR_GEN" in result.stdout
    if store.exists("ed"):
        assert "sign:" in result.stdout and "CKM_EDDSA" in result.stdout
    assert not store.exists("ed-2")
