from __future__ import annotations

from config.runtime import Runtime, WSGIApp
from tsa.resources import TimeStampResource
from tsa.service import TimeStampService


def mount(app: WSGIApp, runtime: Runtime) -> None:
    # The key store is opened on the first token, in the worker, never here.
    service = TimeStampService(
        runtime.settings.tsa, runtime.settings.ca.tsa.name, lambda: runtime.key_store, runtime.clock
    )
    resource = TimeStampResource(service)
    app.add_route("/tsa", resource)
    app.add_post_endpoint("/tsa", resource)
