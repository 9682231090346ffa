"""WSGI entry points (factories, so settings are read when the server starts, not at import time):
``gunicorn 'config.wsgi:application()'`` and granian's ``config.wsgi:granian_application``.

This module imports nothing heavy itself: granian imports it in a new worker before calling the
factory, and :func:`granian_application` must run before the app's imports (see there)."""

from __future__ import annotations

import gc
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.runtime import WSGIApp


def application(server: str = "gunicorn") -> WSGIApp:
    from config import metrics, system_audit
    from config.app import create_app
    from config.logging_setup import configure_logging
    from config.settings import load_settings

    settings = load_settings()
    configure_logging(settings.logging)
    app = create_app(settings)
    system_audit.process_started("web-worker", server)  # issue 15: worker start and stop audited
    metrics.flush_at_exit()
    # The app and the modules it loaded live as long as the worker: out of the collector's sight.
    # A stopping gunicorn worker otherwise spent about 3 s in the interpreter's final collections
    # over that graph (py-spy: gc_collect_main), so Ctrl-C took the whole graceful timeout.
    gc.freeze()
    return app


def granian_application() -> WSGIApp:
    """:func:`application` for a granian worker. A forked worker inherits its master's signal
    handlers, which do nothing in the worker, until granian installs its own after this factory
    returns; a worker told to stop while it was still importing the app therefore ignored
    SIGTERM and was killed after ``server.graceful_timeout_seconds`` ("refused to gracefully
    stop", seen when Ctrl-C came during start-up on a loaded machine). With the default
    dispositions it simply ends: it has no request to finish yet."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    return application("granian")
