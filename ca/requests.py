"""What a certificate request is made of, checked before anything is reserved: the CSR, its
public key (CA/B BR §6.1.5–6.1.6) and the subject identity (ETSI EN 319 412-1 §5.1.3)."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from ca.errors import CSRError, KeyPolicyError, SubjectError
from ca.keyquality import check_key_quality
from core.errors import FieldError
from core.identifiers import IdentifierError, validate_id_card, validate_passport, validate_pesel

MAX_CSR_BYTES = 64 * 1024
MAX_SUBJECT_JSON_BYTES = 16 * 1024
# X.520 ub-common-name: the CN "Given Surname" must fit 64 characters.
MAX_COMMON_NAME = 64
MAX_NAME_PART = 64
ALLOWED_CURVES = ("secp256r1", "secp384r1", "secp521r1")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_SUBJECT_KEYS = ("given_name", "surname", "pesel", "id_card", "passport", "email")
# Product of the primes below 2000: an RSA modulus sharing a factor with it is broken.
_SMALL_PRIMES_PRODUCT = math.prod(p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))) * 2


@dataclass(frozen=True)
class SubjectIdentity:
    """A natural person as the certificate names them (EN 319 412-2 §4.2.4)."""

    given_name: str
    surname: str
    pesel: str | None = None  # else id_card, else passport (EN 319 412-1 §5.1.3 serialNumber)
    id_card: str | None = None
    passport: str | None = None
    email: str | None = None  # optional rfc822Name in subjectAltName

    @property
    def common_name(self) -> str:
        return f"{self.given_name} {self.surname}"


def load_csr(data: bytes) -> x509.CertificateSigningRequest:
    """Parse a PKCS#10 request (PEM or DER) and check its self-signature (RFC 2986 §3)."""
    if not data:
        raise CSRError("the CSR is empty")
    if len(data) > MAX_CSR_BYTES:
        raise CSRError(f"the CSR is larger than {MAX_CSR_BYTES} bytes")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            csr = x509.load_pem_x509_csr(data.strip())
        else:
            csr = x509.load_der_x509_csr(data)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion):
        raise CSRError("not a PKCS#10 certificate request (PEM or DER)") from None
    try:
        valid = csr.is_signature_valid
        csr.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion, x509.UnsupportedGeneralNameType):
        raise CSRError("the CSR uses an unsupported key or signature algorithm") from None
    if not valid:
        raise CSRError("the CSR's self-signature is invalid")
    return csr


def check_public_key(key: CertificatePublicKeyTypes, *, allow_ed25519: bool = False) -> None:
    """Key policy of CA/B BR §6.1.5–6.1.6: RSA ≥ 2048 bits with a modulus divisible by 8 and an
    odd exponent ≥ 3 (no small factors); EC on P-256/P-384/P-521 (the point was checked on load);
    Ed25519 only when the profile allows it; never a known-weak or compromised key
    (:mod:`ca.keyquality`, BR §6.1.1.3). Raises :class:`KeyPolicyError` (:class:`WeakKeyError`)."""
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        if key.key_size < 2048:
            raise KeyPolicyError(f"RSA keys need at least 2048 bits (got {key.key_size})")
        if numbers.n.bit_length() % 8:
            raise KeyPolicyError("the RSA modulus size must be a multiple of 8 bits")
        if numbers.e < 3 or numbers.e % 2 == 0:
            raise KeyPolicyError("the RSA public exponent must be odd and at least 3")
        if numbers.e >= numbers.n:
            raise KeyPolicyError("the RSA public exponent must be smaller than the modulus")
        if numbers.n % 2 == 0 or math.gcd(numbers.n, _SMALL_PRIMES_PRODUCT) != 1:
            raise KeyPolicyError("the RSA modulus has a small prime factor (weak key)")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ALLOWED_CURVES:
            raise KeyPolicyError(f"EC keys must use P-256, P-384 or P-521 (got {key.curve.name})")
    elif isinstance(key, ed25519.Ed25519PublicKey):
        if not allow_ed25519:
            raise KeyPolicyError("Ed25519 keys are not allowed by this certificate profile")
    else:
        raise KeyPolicyError(f"unsupported key type {type(key).__name__}")
    # Known-weak (ROCA, close primes, ...) and known-compromised keys: WeakKeyError names the reason.
    check_key_quality(key)


def _clean_name(value: Any, field: str, errors: list[FieldError]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(field, "is required", "required"))
        return ""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if len(text) > MAX_NAME_PART:
        errors.append(FieldError(field, f"must be at most {MAX_NAME_PART} characters", "too_long"))
    elif any(not (ch.isalpha() or ch in " -'.") for ch in text):
        errors.append(FieldError(field, "may contain letters, spaces, hyphens, apostrophes and dots only"))
    return text


def validate_subject(subject: SubjectIdentity) -> SubjectIdentity:
    """Normalise and check a subject like an application is checked; raise :class:`SubjectError`
    listing every bad field. Messages never echo identifiers (they are personal data)."""
    errors: list[FieldError] = []
    given = _clean_name(subject.given_name, "given_name", errors)
    surname = _clean_name(subject.surname, "surname", errors)
    if given and surname and len(f"{given} {surname}") > MAX_COMMON_NAME:
        errors.append(
            FieldError("surname", f"given name and surname together exceed {MAX_COMMON_NAME} characters", "too_long")
        )
    values: dict[str, str | None] = {"pesel": None, "id_card": None, "passport": None}
    for field, validator in (("pesel", validate_pesel), ("id_card", validate_id_card), ("passport", validate_passport)):
        raw = getattr(subject, field)
        if raw is None:
            continue
        if not isinstance(raw, str):
            errors.append(FieldError(field, "must be a string"))
            continue
        try:
            values[field] = validator(raw)
        except IdentifierError as exc:
            errors.append(FieldError(field, exc.message))
    if not any(getattr(subject, f) for f in values):
        errors.append(FieldError("pesel", "a PESEL, ID card number or passport number is required", "required"))
    email = subject.email
    if email is not None and (
        not isinstance(email, str) or len(email) > 254 or not email.isascii() or not _EMAIL.match(email)
    ):
        errors.append(FieldError("email", "is not a valid e-mail address"))
    if errors:
        raise SubjectError(errors, message="invalid subject: " + ", ".join(e.field for e in errors))
    return SubjectIdentity(given, surname, values["pesel"], values["id_card"], values["passport"], email)


def parse_subject_json(data: bytes | str) -> SubjectIdentity:
    """The subject file of ``sekap-trust cert issue``: a JSON object with ``given_name``,
    ``surname``, one of ``pesel`` / ``id_card`` / ``passport`` and optional ``email``."""
    if isinstance(data, bytes):
        if len(data) > MAX_SUBJECT_JSON_BYTES:
            raise SubjectError(FieldError("subject", "the subject file is too large"), message="subject file too large")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SubjectError(FieldError("subject", "must be UTF-8 JSON"), message="subject: not UTF-8") from None
    else:
        text = data
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise SubjectError(FieldError("subject", "is not valid JSON"), message="subject: not valid JSON") from None
    if not isinstance(obj, dict):
        raise SubjectError(FieldError("subject", "must be a JSON object"), message="subject: not a JSON object")
    unknown = sorted(set(obj) - set(_SUBJECT_KEYS))
    if unknown:
        raise SubjectError(
            [FieldError(k[:40], "unknown field", "unknown") for k in unknown],
            message=f"subject: unknown field(s) {', '.join(k[:40] for k in unknown)}",
        )
    subject = SubjectIdentity(
        given_name=obj.get("given_name"),  # type: ignore[arg-type]  # checked by validate_subject
        surname=obj.get("surname"),  # type: ignore[arg-type]
        pesel=obj.get("pesel"),
        id_card=obj.get("id_card"),
        passport=obj.get("passport"),
        email=obj.get("email"),
    )
    return validate_subject(subject)
