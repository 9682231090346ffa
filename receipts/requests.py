"""Decoding receipt requests (JSON) into typed values, with field errors for everything wrong."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core.errors import FieldError, ValidationError
from receipts.upo import Party

IDENTIFIER_TYPES = ("REGON", "NIP", "KRS", "PESEL", "TERYT", "ID", "ESP")
MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True)
class SubmissionRequest:
    """A filing delivered to an office: the package (or its digest and size) and what it is."""

    recipient: Party
    sender: Party | None
    submission_number: str
    subject: str
    package_sha256: bytes
    package_size: int | None


@dataclass(frozen=True)
class DeliveryRequest:
    """The citizen's signature over a package the office sent (ASiC-E signed with add-signature)."""

    signed_package: bytes
    office: Party
    recipient: Party
    letter_id: str
    subject: str


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


class _Fields:
    def __init__(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise ValidationError.single("", "the body must be a JSON object")
        self.body = body
        self.errors: list[FieldError] = []

    def text(self, name: str, *, limit: int, required: bool = True, source: dict[str, Any] | None = None) -> str | None:
        value = (self.body if source is None else source).get(name.rsplit("/", 1)[-1])
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            self.errors.append(FieldError(name, f"must be a non-empty string of at most {limit} characters"))
            return None
        if any(ord(c) < 32 for c in value):
            self.errors.append(FieldError(name, "must not contain control characters"))
            return None
        return value.strip()

    def party(self, name: str, *, required: bool = True) -> Party | None:
        value = self.body.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, dict):
            self.errors.append(FieldError(name, "must be an object with at least a name"))
            return None
        party_name = self.text(f"{name}/name", limit=300, source=value)
        address = self.text(f"{name}/address", limit=300, required=False, source=value)
        identifier = self.text(f"{name}/identifier", limit=50, required=False, source=value)
        kind = self.text(f"{name}/identifier_type", limit=10, required=False, source=value)
        if kind is not None and kind not in IDENTIFIER_TYPES:
            self.errors.append(FieldError(f"{name}/identifier_type", f"must be one of {', '.join(IDENTIFIER_TYPES)}"))
        if identifier is not None and kind is None:
            self.errors.append(FieldError(f"{name}/identifier_type", "is required with an identifier"))
        if party_name is None:
            return None
        return Party(party_name, address, identifier, kind)

    def base64(self, name: str, *, limit: int, required: bool = True) -> bytes | None:
        value = self.body.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            self.errors.append(FieldError(name, "must be base64 text"))
            return None
        if len(value) > (limit * 4) // 3 + 4:
            self.errors.append(FieldError(name, f"must be at most {limit} bytes", "too_large"))
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self.errors.append(FieldError(name, "must be base64 text"))
            return None

    def done(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def parse_submission(body: Any, *, max_package_bytes: int) -> SubmissionRequest:
    """``package`` (base64) or ``package_sha256`` (hex) with an optional ``package_size``."""
    fields = _Fields(body)
    recipient = fields.party("recipient")
    sender = fields.party("sender", required=False)
    number = fields.text("submission_number", limit=100)
    subject = fields.text("subject", limit=500)
    package = fields.base64("package", limit=max_package_bytes, required=False)
    digest_hex = body.get("package_sha256")
    size = body.get("package_size")
    digest: bytes | None = None
    if package is not None:
        digest, size = hashlib.sha256(package).digest(), len(package)
        if digest_hex is not None and digest_hex != digest.hex():
            fields.errors.append(FieldError("package_sha256", "does not match the package"))
    elif isinstance(digest_hex, str) and len(digest_hex) == 64 and all(c in "0123456789abcdef" for c in digest_hex):
        digest = bytes.fromhex(digest_hex)
    elif "package" not in body:
        fields.errors.append(FieldError("package_sha256", "give the package (base64) or its SHA-256 (64 hex digits)"))
    # At most a signed 64-bit integer (the column's range): a larger one was a 500 (schemathesis).
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < 2**63):
        fields.errors.append(FieldError("package_size", "must be a non-negative integer below 2^63"))
    fields.done()
    assert recipient is not None and number is not None and subject is not None and digest is not None
    return SubmissionRequest(recipient, sender, number, subject, digest, size)


def parse_delivery(body: Any, *, max_package_bytes: int) -> DeliveryRequest:
    fields = _Fields(body)
    signed = fields.base64("signed_package", limit=max_package_bytes)
    office = fields.party("office")
    recipient = fields.party("recipient")
    letter_id = fields.text("letter_id", limit=100)
    subject = fields.text("subject", limit=500)
    fields.done()
    assert signed is not None and office is not None and recipient is not None
    assert letter_id is not None and subject is not None
    return DeliveryRequest(signed, office, recipient, letter_id, subject)


def check_idempotency_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise ValidationError.single("Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
