"""Request checks: CSR parsing and self-signature (RFC 2986), key policy (CA/B BR §6.1.5–6.1.6),
subject JSON validated like an application (EN 319 412-1 §5.1.3 identifiers)."""

from __future__ import annotations

import contextlib
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from ca.errors import CSRError, KeyPolicyError, SubjectError
from ca.requests import SubjectIdentity, check_public_key, load_csr, parse_subject_json
from tests.ca.conftest import csr_for, ec_key


def test_csr_pem_and_der() -> None:
    csr = csr_for(ec_key())
    pem = csr.public_bytes(serialization.Encoding.PEM)
    assert load_csr(pem).public_key() == csr.public_key()
    assert load_csr(csr.public_bytes(serialization.Encoding.DER)).public_key() == csr.public_key()


def test_csr_with_a_broken_self_signature_is_refused() -> None:
    der = bytearray(csr_for(ec_key()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the signature value
    with pytest.raises(CSRError) as err:
        load_csr(bytes(der))
    assert err.value.errors[0].field == "csr"


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----", b"0" * 70000],
)
def test_csr_garbage(data: bytes) -> None:
    with pytest.raises(CSRError):
        load_csr(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_csr_parser_never_fails_otherwise(data: bytes) -> None:
    with pytest.raises(CSRError):
        load_csr(data)


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=255))
def test_csr_parser_on_mutated_requests(position: int, flip: int) -> None:
    der = bytearray(_CSR_DER)
    if flip == 0 or position >= len(der):
        return
    der[position] ^= flip
    try:
        csr = load_csr(bytes(der))
    except CSRError:
        return
    assert csr.is_signature_valid  # anything accepted carries a valid self-signature


_CSR_DER = csr_for(ec_key()).public_bytes(serialization.Encoding.DER)


def test_rsa_policy() -> None:
    check_public_key(rsa.generate_private_key(65537, 2048).public_key())
    check_public_key(rsa.generate_private_key(3, 2048).public_key())  # odd e ≥ 3 is allowed
    with pytest.raises(KeyPolicyError, match="2048"):
        check_public_key(rsa.generate_private_key(65537, 1024).public_key())
    with pytest.raises(KeyPolicyError, match="multiple of 8"):
        check_public_key(rsa.generate_private_key(65537, 2052).public_key())
    # A modulus with a small factor (known-weak): 2^2048 - 1 is divisible by 3.
    weak = rsa.RSAPublicNumbers(65537, 2**2048 - 1).public_key()
    assert weak.key_size == 2048
    with pytest.raises(KeyPolicyError, match="small prime"):
        check_public_key(weak)


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()], ids=lambda c: c.name)
def test_allowed_curves(curve: ec.EllipticCurve) -> None:
    check_public_key(ec.generate_private_key(curve).public_key())


def test_other_curves_and_ed25519() -> None:
    with pytest.raises(KeyPolicyError, match="P-256"):
        check_public_key(ec.generate_private_key(ec.SECP256K1()).public_key())
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    with pytest.raises(KeyPolicyError):
        check_public_key(key)
    check_public_key(key, allow_ed25519=True)


def test_ec_point_off_the_curve_never_loads() -> None:
    # BR §6.1.6: a point not on the curve is refused when the CSR is parsed.
    good = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    with pytest.raises(ValueError):
        ec.EllipticCurvePublicNumbers(good.x, good.y + 1, ec.SECP256R1()).public_key()


def test_subject_json_ok_and_normalised() -> None:
    subject = parse_subject_json(
        json.dumps(
            {"given_name": " Zofia  Maria ", "surname": "Wójcik-Nowak", "id_card": "aba300000", "email": "z@example.pl"}
        ).encode()
    )
    assert subject == SubjectIdentity("Zofia Maria", "Wójcik-Nowak", id_card="ABA300000", email="z@example.pl")


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"given_name": "Jan", "surname": "Kowalski"}, {"pesel"}),
        ({"given_name": "Jan", "surname": "Kowalski", "pesel": "44051401358"}, {"pesel"}),
        ({"given_name": "Jan", "surname": "Kowalski", "pesel": "01222912346"}, {"pesel"}),
        ({"given_name": "Jan", "surname": "Kowalski", "passport": "CC7999480"}, {"passport"}),
        ({"given_name": "J4n", "surname": "", "pesel": "44051401359"}, {"given_name", "surname"}),
        ({"given_name": "Jan", "surname": "K" * 70, "pesel": "44051401359"}, {"surname"}),
        ({"given_name": "Jan", "surname": "Kowalski", "pesel": "44051401359", "email": "not-an-address"}, {"email"}),
        ({"given_name": "Jan", "surname": "Kowalski", "pesel": 44051401359}, {"pesel"}),
        ({"given_name": "Jan", "surname": "Kowalski", "pesel": "44051401359", "role": "admin"}, {"role"}),
    ],
)
def test_subject_json_errors_name_the_fields(payload: dict[str, object], fields: set[str]) -> None:
    with pytest.raises(SubjectError) as err:
        parse_subject_json(json.dumps(payload))
    assert {e.field for e in err.value.errors} == fields
    # Messages never echo identifiers (personal data).
    assert "44051401358" not in str(err.value) and all("4405140135" not in e.message for e in err.value.errors)


@pytest.mark.parametrize("data", [b"", b"[]", b"null", b"\xff\xfe", b"{", b"[" * 5000 + b"]" * 5000, b"x" * 20000])
def test_subject_json_garbage(data: bytes) -> None:
    with pytest.raises(SubjectError):
        parse_subject_json(data)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["given_name", "surname", "pesel", "id_card", "passport", "email", "x"]), _json_values
    )
)
def test_subject_json_parser_only_raises_subject_error(obj: dict[str, object]) -> None:
    try:
        subject = parse_subject_json(json.dumps(obj))
    except SubjectError:
        return
    assert subject.given_name and subject.surname and (subject.pesel or subject.id_card or subject.passport)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_subject_json_parser_on_bytes(data: bytes) -> None:
    with contextlib.suppress(SubjectError):
        parse_subject_json(data)


def test_hash_of_csr_signature_is_checked_with_rsa_too() -> None:
    key = rsa.generate_private_key(65537, 2048)
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(key, hashes.SHA256())
    )
    assert load_csr(csr.public_bytes(serialization.Encoding.PEM)).is_signature_valid
