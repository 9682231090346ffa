"""gunicorn entry point: ``gunicorn 'config.wsgi:application()'`` (a factory, so settings are
read when the server starts, not at import time)."""

from __future__ import annotations

import gc

from config.app import create_app
from config.logging_setup import configure_logging
from config.runtime import WSGIApp
from config.settings import load_settings


def application() -> WSGIApp:
    settings = load_settings()
    configure_logging(settings.logging)
    app = create_app(settings)
    # The app and the modules it loaded live as long as the worker: out of the collector's sight.
    # A stopping gunicorn worker otherwise spent about 3 s in the interpreter's final collections
    # over that graph (py-spy: gc_collect_main), so Ctrl-C took the whole graceful timeout.
    gc.freeze()
    return app
