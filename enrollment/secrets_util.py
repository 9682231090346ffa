"""Passwords, bearer tokens and revocation codes: generation, hashing, policy.

Officer passwords and revocation codes are hashed with argon2id (slow, salted); bearer tokens
carry 256 random bits, so a plain SHA-256 is enough to store them (looked up by hash).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import FieldError, ValidationError

# Revocation codes: 20 characters from an unambiguous alphabet (~100 bits), shown in groups.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_GROUPS = 4
_CODE_GROUP_LEN = 5


def hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    """argon2id with the configured cost (the library's type is argon2id by default)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def verify_hash(ph: PasswordHasher, stored: str, candidate: str) -> bool:
    try:
        return ph.verify(stored, candidate)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    """A bearer token: a short type prefix and 256 random bits."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_revocation_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUPS * _CODE_GROUP_LEN))
    return "-".join(raw[i : i + _CODE_GROUP_LEN] for i in range(0, len(raw), _CODE_GROUP_LEN))


def normalise_code(code: str) -> str:
    """Codes are typed by people: ignore case, spaces and hyphens."""
    return re.sub(r"[\s-]", "", code).upper()


def new_reference() -> str:
    """Application reference: ``SK-`` and 10 characters of the unambiguous alphabet."""
    return "SK-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def new_tracking_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(10))


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def check_password_policy(password: str, username: str, field: str = "password") -> None:
    """Officer passwords (REFERENCE.md, CC SEKAP practice): at least 8 characters with a lower-case
    letter, an upper-case letter and a digit, and not the username."""
    problems = []
    if len(password) < 8:
        problems.append("at least 8 characters")
    if not re.search(r"[a-ząćęłńóśźż]", password):
        problems.append("a lower-case letter")
    if not re.search(r"[A-ZĄĆĘŁŃÓŚŹŻ]", password):
        problems.append("an upper-case letter")
    if not re.search(r"\d", password):
        problems.append("a digit")
    message = "the password needs " + ", ".join(problems) if problems else ""
    if password.strip().lower() == username.strip().lower():
        message = (message + "; " if message else "") + "the password must not be the username"
    if message:
        raise ValidationError([FieldError(field, message, "weak_password")], message=message)
