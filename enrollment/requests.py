"""What enrollment's resources decode a JSON body into: one frozen dataclass per action.

Decoding checks shapes and types (and everything that needs no database); the services check
the rest against the application or certificate at hand. Where a body has several fields, the
problems found while decoding travel with the request (``problems``) so the service can report
them together with its own in one 422, as the API always did.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from ca.api import canonical_serial
from core.errors import FieldError, ValidationError
from core.identifiers import IdentifierError, validate_pesel
from enrollment.validation import parse_csr, parse_date, validate_document


def serial_of(value: Any) -> str:
    """The canonical hex form (ca.serials) of a serial given by a client."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.single("serial", "is required", "required")
    try:
        return canonical_serial(value)
    except ValidationError:
        raise ValidationError.single("serial", "must be the certificate serial in hex") from None


@dataclass(frozen=True)
class LoginRequest:
    username: str
    password: str
    totp_code: str | None = None  # required for officers with a confirmed TOTP factor

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> LoginRequest:
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise ValidationError.single("username", "username and password are required", "required")
        code = body.get("totp_code")
        if code is not None and not isinstance(code, str):
            raise ValidationError.single("totp_code", "must be a string of digits", "type")
        return cls(username, password, code)


@dataclass(frozen=True)
class AgreementRequest:
    text: str

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> AgreementRequest:
        text = body.get("text")
        if not isinstance(text, str):
            raise ValidationError.single("text", "is required", "required")
        return cls(text)


@dataclass(frozen=True)
class SearchRequest:
    """An officer looks an application up by one key (the first given wins); ``value`` is
    normalised (a PESEL checked, a reference or document number upper-cased)."""

    by: Literal["reference", "tracking_code", "pesel", "document_number", "surname"]
    value: str
    given_names: str | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SearchRequest:
        for name in ("reference", "tracking_code", "pesel", "document_number", "surname", "given_names"):
            _search_text(body, name)  # every key is a string, not only the one that wins (422)
        if reference := _search_text(body, "reference"):
            return cls("reference", reference.upper())
        if tracking := _search_text(body, "tracking_code"):
            return cls("tracking_code", tracking)
        if pesel := _search_text(body, "pesel"):
            try:
                return cls("pesel", validate_pesel(pesel))
            except IdentifierError as exc:
                raise ValidationError.single("pesel", exc.message, "invalid_identifier") from None
        if document := _search_text(body, "document_number"):
            return cls("document_number", document.replace(" ", "").upper())
        if surname := _search_text(body, "surname"):
            return cls("surname", surname, _search_text(body, "given_names"))
        raise ValidationError.single(
            "reference", "give a reference, a tracking code, a PESEL, a document number or a surname", "required"
        )


def _search_text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if name in body and not isinstance(value, str):  # null too: the schema says string
        # Not silently skipped: the OpenAPI document says every key is a string (422 otherwise).
        raise ValidationError.single(name, "must be a string", "invalid")
    return value.strip() if value and value.strip() else None


@dataclass(frozen=True)
class IdentityCheckRequest:
    """The officer's record of the in-person check (document, data match, accepted agreement)."""

    document_type: str | None
    document_number: str | None
    document_expiry: date | None
    data_match: bool
    agreement_version: int | None
    problems: tuple[FieldError, ...] = ()
    # The date of birth on the document: required for an application without a PESEL (adulthood).
    birth_date: date | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> IdentityCheckRequest:
        errors: list[FieldError] = []
        doc_type, doc_number = validate_document(
            body.get("document_type"), body.get("document_number"), errors, "document_"
        )
        expiry = parse_date(body.get("document_expiry"), "document_expiry", errors)
        data_match = body.get("data_match") is True
        if not data_match:
            errors.append(
                FieldError("data_match", "the officer must confirm that the document matches the application")
            )
        version = body.get("agreement_version")
        if isinstance(version, bool) or not isinstance(version, int):
            errors.append(
                FieldError("agreement_version", "must be the version number of the accepted agreement", "required")
            )
            version = None
        birth = parse_date(body.get("birth_date"), "birth_date", errors) if body.get("birth_date") is not None else None
        return cls(doc_type, doc_number, expiry, data_match, version, tuple(errors), birth)


@dataclass(frozen=True)
class IssueRequest:
    """``pin`` protects the PKCS#12 of a key generated at the point (checked against the
    application's key generation by the hand-over); ``pin_given`` also counts a non-text PIN."""

    pin: str | None
    pin_given: bool = False

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> IssueRequest:
        pin = body.get("pin")
        return cls(pin if isinstance(pin, str) else None, pin is not None)


@dataclass(frozen=True)
class RevokeRequest:
    """A reason and, for a citizen's keyCompromise, the proof of possession of the key.

    ``proof`` is a detached signature by the certificate's key over :func:`compromise_statement`
    for ``proof_time`` (RFC 8555 §7.6: revocation signed with the certificate's own key)."""

    reason: str
    proof: bytes | None = None
    proof_time: datetime | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any], allowed: tuple[str, ...]) -> RevokeRequest:
        """``allowed``: the RFC 5280 §5.3.1 reasons this caller may give (absent: unspecified)."""
        reason = body.get("reason")
        if reason is None:
            reason = "unspecified"
        if reason not in allowed:
            raise ValidationError.single("reason", f"must be one of {', '.join(allowed)}")
        errors: list[FieldError] = []
        proof = _proof(body.get("proof"), errors) if body.get("proof") is not None else None
        proof_time = _proof_time(body.get("proof_time"), errors) if body.get("proof_time") is not None else None
        if errors:
            raise ValidationError(errors, message="the revocation request has invalid fields")
        return cls(str(reason), proof, proof_time)


def compromise_statement(serial: str, proof_time: datetime) -> bytes:
    """What a citizen signs to claim keyCompromise: the serial, the reason and the time, so one
    signature names one certificate and one moment (the service takes it within a short window)."""
    at = proof_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"sekap-trust revocation\nserial={serial.upper()}\nreason=keyCompromise\nat={at}\n".encode("ascii")


def _proof(value: Any, errors: list[FieldError]) -> bytes:
    if not isinstance(value, str):
        errors.append(FieldError("proof", "must be a base64 signature"))
        return b""
    try:
        signature = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if not signature:
        errors.append(FieldError("proof", "must be a base64 signature"))
    return signature


def _proof_time(value: Any, errors: list[FieldError]) -> datetime | None:
    if isinstance(value, str):
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            at = None
        if at is not None and at.tzinfo is not None:
            return at.astimezone(UTC)
    errors.append(FieldError("proof_time", "must be a date-time with a time zone (RFC 3339)"))
    return None


@dataclass(frozen=True)
class CodeRequest:
    """Self-service without the portal: a serial and its revocation code (checked by the service,
    with a lockout)."""

    serial: str
    code: str

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> CodeRequest:
        serial = serial_of(body.get("serial"))
        # revocation_code: the name issuance hands it out under; "code" is its former name, still read.
        code = body.get("revocation_code", body.get("code"))
        if not isinstance(code, str) or not code.strip():
            raise ValidationError.single("revocation_code", "the revocation code is required", "required")
        return cls(serial, code)


@dataclass(frozen=True)
class RenewalRequest:
    """A CSR for the new key and a detached signature over that CSR's DER by the current key."""

    serial: str
    csr_der: bytes
    signature: bytes

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> RenewalRequest:
        errors: list[FieldError] = []
        serial = serial_of(body.get("serial"))
        csr_der = parse_csr(body.get("csr"), errors)
        signature = _signature(body.get("signature"), errors)
        if errors:
            raise ValidationError(errors, message="the renewal request has invalid fields")
        assert csr_der is not None
        return cls(serial, csr_der, signature)


def _signature(value: Any, errors: list[FieldError]) -> bytes:
    if not isinstance(value, str) or not value.strip():
        errors.append(
            FieldError("signature", "a base64 signature over the CSR (DER) by the current key is required", "required")
        )
        return b""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        errors.append(FieldError("signature", "must be base64"))
        return b""
