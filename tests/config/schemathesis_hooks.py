"""schemathesis hooks (``SCHEMATHESIS_HOOKS=tests.config.schemathesis_hooks`` for the CLI): the
binary protocol bodies are sent as the bytes generated for them."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer(
    "application/ocsp-request",
    "application/timestamp-query",
    "application/pdf",
    "application/pkcs7-signature",
    "application/pkcs7-mime",
    "application/cms",
)
def _binary(ctx: Any, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()
