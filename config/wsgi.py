"""gunicorn entry point: ``gunicorn 'config.wsgi:application()'`` (a factory, so settings are
read when the server starts, not at import time)."""

from __future__ import annotations

from config.app import create_app
from config.logging_setup import configure_logging
from config.runtime import WSGIApp
from config.settings import load_settings


def application() -> WSGIApp:
    settings = load_settings()
    configure_logging(settings.logging)
    return create_app(settings)
