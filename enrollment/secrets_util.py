"""Revocation codes, application references and tracking codes.

Revocation codes are hashed with argon2id like officer passwords (access.secrets, re-exported
here for enrollment's own use)."""

from __future__ import annotations

import hmac
import re
import secrets

from access.secrets import hasher, verify_hash

# Revocation codes: 20 characters from an unambiguous alphabet (~100 bits), shown in groups.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_GROUPS = 4
_CODE_GROUP_LEN = 5


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


__all__ = [
    "constant_time_equal",
    "hasher",
    "new_reference",
    "new_revocation_code",
    "new_tracking_code",
    "normalise_code",
    "verify_hash",
]
