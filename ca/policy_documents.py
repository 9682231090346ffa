"""The CA's policy documents served under its public URL: the certification practice statement
(the CPS pointer in every certificate's policy qualifier, RFC 5280 §4.2.1.4) and the PKI
disclosure statement (EN 319 411-1 §6.1), both in Polish. The texts live in ``ca/documents/``;
the URLs, OIDs and intervals in them come from the CA settings."""

from __future__ import annotations

import hashlib
import html
from importlib import resources

import falcon

from ca.settings import CASettings

DOCUMENTS = ("cps", "pds")


def render(name: str, settings: CASettings) -> str:
    """The document ``name`` (``cps`` or ``pds``) with this CA's URLs and policy filled in."""
    if name not in DOCUMENTS:
        raise KeyError(name)
    template = resources.files("ca").joinpath("documents", f"{name}.html").read_text("utf-8")
    values = {
        "public_base_url": settings.public_base_url,
        "policy_oid": settings.policy_oid,
        "cps_url": settings.cps_url,
        "pds_url": settings.pds_url,
        "ocsp_url": settings.ocsp_url,
        "crl_url": settings.crl_url(settings.issuing.name),
        "crl_hours": str(settings.crl.next_update_hours),
    }
    return template.format_map({key: html.escape(value) for key, value in values.items()})


class PolicyDocumentResource:
    """``GET /policy/cps`` and ``GET /policy/pds`` (text/html, Polish)."""

    def __init__(self, settings: CASettings) -> None:
        self._pages = {name: render(name, settings).encode("utf-8") for name in DOCUMENTS}

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        page = self._pages.get(name)
        if page is None:
            raise falcon.HTTPNotFound()
        resp.content_type = "text/html; charset=utf-8"
        resp.etag = hashlib.sha256(page).hexdigest()[:32]
        resp.cache_control = ["public", "max-age=3600"]
        resp.data = page
