from __future__ import annotations

import falcon

from ca.resources import AuthorityCertificateResource
from config.runtime import Runtime


def mount(app: falcon.App, runtime: Runtime) -> None:
    app.add_route("/certs/{name}.crt", AuthorityCertificateResource())
