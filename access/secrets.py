"""Passwords and bearer tokens: generation, hashing, policy.

Officer passwords are hashed with argon2id (slow, salted); bearer tokens carry 256 random bits,
so a plain SHA-256 is enough to store them (looked up by hash).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import FieldError, ValidationError

SESSION_TOKEN_PREFIX = "sts"  # noqa: S105 - a type prefix, not a secret
PORTAL_TOKEN_PREFIX = "stp"  # noqa: S105


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
