"""The app factory: ``create_app(settings, services=...)``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import peewee as pw

from access.middleware import AuthenticationMiddleware
from config import http_errors, metrics, system_audit
from config.health import HealthResource, ReadinessResource
from config.metrics import MetricsMiddleware, MetricsResource
from config.middleware import BodyLimitMiddleware, DatabaseMiddleware, RequestIdMiddleware
from config.openapi import OpenAPIResource
from config.protocol_lane import App
from config.runtime import Runtime, WSGIApp
from config.settings import Settings
from config.wiring import MOUNTS, officer_points
from core import db as core_db
from core.clock import Clock, SystemClock
from core.errors import ConfigurationError
from hsm.base import KeyStore


def create_app(
    settings: Settings,
    services: Iterable[str] | None = None,
    *,
    clock: Clock | None = None,
    key_store: KeyStore | None = None,
    database: pw.Database | None = None,
) -> WSGIApp:
    """Build the falcon app with the named services mounted (default: ``server.services``).

    ``database`` binds an already opened database (tests); otherwise the URL from settings is
    bound. Nothing connects or touches keys here: connections open per request and the key store
    on first use, so this is safe to call before gunicorn forks.
    """
    names = list(services if services is not None else settings.server.services)
    unknown = [n for n in names if n not in MOUNTS]
    if unknown:
        raise ConfigurationError("server.services", f"unknown service(s) {unknown}; available: {sorted(MOUNTS)}")
    core_db.bind(database if database is not None else core_db.open_database(settings.database.url))
    runtime = Runtime(settings, clock or SystemClock(), key_store)
    system_audit.install(runtime.clock)
    metrics.install()
    middleware: list[Any] = [
        MetricsMiddleware(),
        RequestIdMiddleware(),
        BodyLimitMiddleware(settings.server.max_body_bytes),
        DatabaseMiddleware(),
        AuthenticationMiddleware(runtime.clock, officer_points(names)),
    ]
    app: WSGIApp = App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    http_errors.install(app)
    app.add_route("/healthz", HealthResource())
    app.add_route("/readyz", ReadinessResource(runtime))
    app.add_route("/metrics", MetricsResource(runtime))
    app.add_route("/openapi.json", OpenAPIResource())
    for name in names:
        MOUNTS[name](app, runtime)
    return app
