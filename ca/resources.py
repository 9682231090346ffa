"""The CA's own download resources: CA and signer certificates (RFC 5280 §4.2.2.1 caIssuers) and
CRLs (RFC 5280 §5, served as ``application/pkix-crl``, RFC 2585 §4)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import falcon

from ca.crl import crl_der, latest
from ca.errors import AuthorityNotFoundError, CRLNotFoundError
from ca.hierarchy import authority
from ca.models import Authority
from core.clock import Clock, ensure_utc

# CRLs change within a minute of a revocation; caches may keep them this long at most.
CRL_MAX_AGE_SECONDS = 300


def _not_modified(req: falcon.Request, etag: str) -> bool:
    tags = req.if_none_match or []
    return any(tag in (etag, "*") for tag in tags)


class AuthorityCertificateResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        row = authority(name)
        der = bytes(row.certificate_der)
        etag = hashlib.sha256(der).hexdigest()[:32]
        resp.etag = etag
        resp.last_modified = ensure_utc(row.updated_at)
        resp.cache_control = ["public", "max-age=3600"]
        if _not_modified(req, etag):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = "application/pkix-cert"
        resp.data = der


class CRLResource:
    """``GET /crl/<ca>.crl`` (full) and ``GET /crl/<ca>-delta.crl`` (delta): the newest published."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        kind = "full"
        row = Authority.get_or_none(Authority.name == name)
        if row is None and name.endswith("-delta"):
            kind = "delta"
            row = Authority.get_or_none(Authority.name == name[: -len("-delta")])
        if row is None or row.role not in ("root", "issuing"):
            raise AuthorityNotFoundError(name)
        crl = latest(row, kind, with_der=False)
        if crl is None:
            raise CRLNotFoundError(name)
        now = self.clock.now()
        max_age = int(max(0, min(CRL_MAX_AGE_SECONDS, (crl.next_update - now).total_seconds())))
        resp.etag = crl.sha256[:32]
        resp.last_modified = crl.this_update
        resp.cache_control = ["public", f"max-age={max_age}", "no-transform"]
        resp.expires = now + timedelta(seconds=max_age)
        if _not_modified(req, crl.sha256[:32]):
            resp.status = falcon.HTTP_304
            return
        if req.if_modified_since and not req.if_none_match and crl.this_update <= ensure_utc(req.if_modified_since):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = "application/pkix-crl"
        resp.data = crl_der(crl.id)
