"""An RFC 3161 client: a SHA-256 digest in, the TimeStampToken out, checked against the request
(status granted, same imprint, same nonce; RFC 3161 §2.4.2)."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request

from asn1crypto import tsp

from epackage.errors import TimestampError

MAX_RESPONSE = 1024 * 1024


def request_der(digest: bytes, nonce: int) -> bytes:
    query = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest},
            "nonce": nonce,
            "cert_req": True,
        }
    )
    return bytes(query.dump())


def token_from_response(response: bytes, digest: bytes, nonce: int) -> bytes:
    """The token of a granted response that answers this request, or :class:`TimestampError`."""
    try:
        parsed = tsp.TimeStampResp.load(response)
        status = parsed["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = parsed["status"]["status_string"].native
            raise TimestampError(f"the TSA refused: {status} {text or ''}".strip())
        token = parsed["time_stamp_token"]
        info = token["content"]["encap_content_info"]["content"].parsed
        if info["message_imprint"]["hashed_message"].native != digest:
            raise TimestampError("the TSA stamped a different digest")
        if info["nonce"].native != nonce:
            raise TimestampError("the TSA answered another request (nonce)")
        return bytes(token.dump())
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TimestampError(f"the TSA response cannot be read ({type(exc).__name__})") from None


class HTTPTimestamper:
    """RFC 3161 §3.4 over HTTP POST (``application/timestamp-query``) to any TSA URL."""

    def __init__(self, url: str, *, timeout: float = 15.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise TimestampError("the TSA URL must be http:// or https://")
        self.url = url
        self.timeout = timeout

    def __call__(self, digest: bytes) -> bytes:
        nonce = secrets.randbits(63)
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=request_der(digest, nonce),
            headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                body = answer.read(MAX_RESPONSE + 1)
        except (urllib.error.URLError, OSError) as exc:
            raise TimestampError(f"the TSA at {self.url} cannot be reached: {exc}") from None
        if len(body) > MAX_RESPONSE:
            raise TimestampError("the TSA response is too large")
        return token_from_response(body, digest, nonce)
