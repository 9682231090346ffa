"""Web settings (section ``[web]``): cookies, sessions and upload limits of the pages."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigurationError


@dataclass(frozen=True)
class WebSettings:
    """How the server-rendered pages behave.

    - ``secure_cookies``: mark cookies ``Secure`` (HTTPS only). Turn off only for plain-http
      local runs (``make run`` writes ``false`` into the demo instance file).
    - ``require_totp``: officers log in with a password and a TOTP code; without a confirmed
      factor they can only enrol (a QR code shown once) before anything else.
    - ``max_upload_bytes``: the largest document the public verification page accepts
      (the verifier's own ``max_document_bytes`` still applies to the signed file).
    """

    secure_cookies: bool = True
    # Officers need a TOTP second factor (RFC 6238) on the pages; enrolment happens at first log-in.
    require_totp: bool = True
    # The session cookie expires this long after the last page (renewed on every page); the
    # session's absolute lifetime stays access.session_ttl_minutes.
    session_idle_minutes: int = 15
    max_upload_bytes: int = 10 * 1024 * 1024

    def __post_init__(self) -> None:
        if not 1 <= self.session_idle_minutes <= 480:
            raise ConfigurationError("web.session_idle_minutes", "must be between 1 and 480")
        if not 1024 <= self.max_upload_bytes <= 100 * 1024 * 1024:
            raise ConfigurationError("web.max_upload_bytes", "must be between 1 KiB and 100 MiB")
