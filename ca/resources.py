"""The CA's own download resources: CA and signer certificates (RFC 5280 §4.2.2.1 caIssuers)."""

from __future__ import annotations

import hashlib

import falcon

from ca.hierarchy import authority
from core.clock import ensure_utc


class AuthorityCertificateResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        row = authority(name)
        der = bytes(row.certificate_der)
        etag = hashlib.sha256(der).hexdigest()[:32]
        resp.etag = etag
        resp.last_modified = ensure_utc(row.updated_at)
        resp.cache_control = ["public", "max-age=3600"]
        if req.if_none_match and any(tag == etag or tag == "*" for tag in req.if_none_match):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = "application/pkix-cert"
        resp.data = der
