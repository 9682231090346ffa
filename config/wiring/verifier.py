from __future__ import annotations

import falcon

from config.runtime import Runtime
from verifier.resources import VerificationsResource
from verifier.service import VerificationService


def mount(app: falcon.App[falcon.Request, falcon.Response], runtime: Runtime) -> None:
    # The key store is opened on first use (OCSP answers, signed reports), never here.
    service = VerificationService(runtime.settings.verifier, runtime.clock, lambda: runtime.key_store)
    app.add_route("/api/v1/verifications", VerificationsResource(service))
