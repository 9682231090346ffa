from __future__ import annotations

from config.runtime import Runtime, WSGIApp
from verifier.resources import VerificationsResource
from verifier.service import VerificationService


def mount(app: WSGIApp, runtime: Runtime) -> None:
    # The key store is opened on first use (OCSP answers, signed reports), never here.
    service = VerificationService(runtime.settings.verifier, runtime.clock, lambda: runtime.key_store)
    app.add_route("/api/v1/verifications", VerificationsResource(service))
