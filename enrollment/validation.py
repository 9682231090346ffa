"""Parsing and validating application data: one FieldError per offending field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ca.api import check_public_key, load_csr
from core.errors import FieldError, ValidationError
from core.identifiers import (
    IdentifierError,
    validate_id_card,
    validate_passport,
    validate_pesel,
    validate_postal_code,
)
from enrollment.models import DOCUMENT_TYPES, KEY_GENERATION

_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_PHONE = re.compile(r"^\+?[0-9]{9,15}$")
MAX_CSR_BYTES = 16 * 1024


@dataclass(frozen=True)
class ApplicationData:
    given_names: str
    surname: str
    pesel: str | None
    document_type: str | None
    document_number: str | None
    email: str
    phone: str
    street: str
    postal_code: str
    city: str
    point_id: int
    key_generation: str
    csr_der: bytes | None


def _text(
    body: Mapping[str, Any],
    name: str,
    errors: list[FieldError],
    *,
    max_len: int,
    pattern: re.Pattern[str] | None = None,
    message: str = "",
    prefix: str = "",
) -> str:
    value = body.get(name)
    field = prefix + name
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(field, "is required", "required"))
        return ""
    value = " ".join(value.split())
    if len(value) > max_len:
        errors.append(FieldError(field, f"must be at most {max_len} characters", "too_long"))
    elif pattern is not None and not pattern.match(value):
        errors.append(FieldError(field, message or "has an invalid format"))
    return value


def validate_document(kind: Any, number: Any, errors: list[FieldError], prefix: str) -> tuple[str | None, str | None]:
    if kind not in DOCUMENT_TYPES:
        errors.append(FieldError(f"{prefix}type", "must be 'id_card' or 'passport'"))
        return None, None
    if not isinstance(number, str):
        errors.append(FieldError(f"{prefix}number", "is required", "required"))
        return kind, None
    try:
        return kind, validate_id_card(number) if kind == "id_card" else validate_passport(number)
    except IdentifierError as exc:
        errors.append(FieldError(f"{prefix}number", exc.message, "invalid_identifier"))
        return kind, None


def parse_csr(value: Any, errors: list[FieldError]) -> bytes | None:
    """PKCS#10: parse, check the self-signature (proof of possession) and the key policy."""
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError("csr", "a PEM PKCS#10 request is required when key_generation is 'csr'", "required"))
        return None
    if len(value) > MAX_CSR_BYTES:
        errors.append(FieldError("csr", f"must be at most {MAX_CSR_BYTES} bytes", "too_long"))
        return None
    try:
        csr = load_csr(value.encode("ascii", "replace"))
        if not csr.is_signature_valid:
            errors.append(FieldError("csr", "the request's signature does not verify (no proof of possession)"))
            return None
        check_public_key(csr.public_key())
    except ValidationError as exc:
        errors.extend(FieldError("csr", e.message, e.code) for e in exc.errors)
        return None
    except ValueError:
        errors.append(FieldError("csr", "is not a PKCS#10 certificate request"))
        return None
    return csr.public_bytes(Encoding.DER)


def parse_application(body: Any) -> ApplicationData:
    """Every problem of an application body at once (one 422 naming each field)."""
    if not isinstance(body, Mapping):
        raise ValidationError.single("", "the body must be a JSON object")
    errors: list[FieldError] = []
    name_msg = "may contain letters, spaces, apostrophes and hyphens only"
    given = _text(body, "given_names", errors, max_len=100, pattern=_NAME, message=name_msg)
    surname = _text(body, "surname", errors, max_len=100, pattern=_NAME, message=name_msg)
    pesel, doc_type, doc_number = _identity(body, errors)
    email = _text(body, "email", errors, max_len=254, pattern=_EMAIL, message="is not an e-mail address")
    phone = _phone(body.get("phone"), errors)
    street, postal, city = _address(body.get("address"), errors)
    point_id = body.get("point_id")
    if isinstance(point_id, bool) or not isinstance(point_id, int) or point_id < 1:
        errors.append(FieldError("point_id", "must be the id of a certification point"))
        point_id = 0
    key_generation = body.get("key_generation", "csr")
    csr_der = None
    if key_generation not in KEY_GENERATION:
        errors.append(FieldError("key_generation", "must be 'csr' or 'point'"))
    elif key_generation == "csr":
        csr_der = parse_csr(body.get("csr"), errors)
    elif body.get("csr") is not None:
        errors.append(FieldError("csr", "must be absent when the key is generated at the point"))
    if errors:
        raise ValidationError(errors, message="the application has invalid fields")
    return ApplicationData(
        given, surname, pesel, doc_type, doc_number, email, phone, street, postal, city, point_id,
        str(key_generation), csr_der,
    )  # fmt: skip


def _identity(body: Mapping[str, Any], errors: list[FieldError]) -> tuple[str | None, str | None, str | None]:
    """A PESEL, or without one an identity document: (pesel, document type, document number)."""
    raw_pesel = body.get("pesel")
    document = body.get("identity_document")
    if raw_pesel is not None and document is not None:
        errors.append(FieldError("identity_document", "give either a PESEL or an identity document, not both"))
    elif raw_pesel is not None:
        if not isinstance(raw_pesel, str):
            errors.append(FieldError("pesel", "must be a string of 11 digits"))
        else:
            try:
                return validate_pesel(raw_pesel), None, None
            except IdentifierError as exc:
                errors.append(FieldError("pesel", exc.message, "invalid_identifier"))
    elif isinstance(document, Mapping):
        doc_type, doc_number = validate_document(
            document.get("type"), document.get("number"), errors, "identity_document."
        )
        return None, doc_type, doc_number
    else:
        errors.append(FieldError("pesel", "a PESEL (or, without one, identity_document) is required", "required"))
    return None, None, None


def _phone(value: Any, errors: list[FieldError]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError("phone", "is required", "required"))
        return ""
    phone = re.sub(r"[\s-]", "", value)
    if not _PHONE.match(phone):
        errors.append(FieldError("phone", "must have 9 to 15 digits, optionally starting with +"))
    return phone


def _address(address: Any, errors: list[FieldError]) -> tuple[str, str, str]:
    """(street, postal code, city)."""
    if not isinstance(address, Mapping):
        errors.append(FieldError("address", "is required (street, postal_code, city)", "required"))
        return "", "", ""
    street = _text(address, "street", errors, max_len=200, prefix="address.")
    city = _text(address, "city", errors, max_len=100, prefix="address.")
    raw_postal = address.get("postal_code")
    postal = ""
    if not isinstance(raw_postal, str):
        errors.append(FieldError("address.postal_code", "is required", "required"))
    else:
        try:
            postal = validate_postal_code(raw_postal)
        except IdentifierError as exc:
            errors.append(FieldError("address.postal_code", exc.message, "invalid_identifier"))
    return street, postal, city


def parse_date(value: Any, field: str, errors: list[FieldError]) -> date | None:
    if not isinstance(value, str):
        errors.append(FieldError(field, "must be a date YYYY-MM-DD", "required"))
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, "must be a date YYYY-MM-DD"))
        return None


def load_csr_der(der: bytes) -> x509.CertificateSigningRequest:
    return x509.load_der_x509_csr(der)
