"""WSGI apps the TSA benchmark compares against, served by the same gunicorn configuration.

- ``ceiling()``: a trivial falcon endpoint (reads the query, answers fixed bytes): the HTTP ceiling.
- ``certomancer()``: certomancer's ``TimeStamper`` behind an equally trivial falcon endpoint, with
  the same TSA certificate and key (paths in BENCH_TSA_CERT / BENCH_TSA_KEY).
"""

from __future__ import annotations

import os

import falcon

REPLY = "application/timestamp-reply"
# About the size of one of our tokens with the TSA certificate.
FIXED_REPLY = b"\x30\x82\x04\x00" + b"\x00" * 1024


class _Ceiling:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.bounded_stream.read(4097)
        resp.content_type = REPLY
        resp.data = FIXED_REPLY


def ceiling() -> falcon.App:
    app = falcon.App()
    app.add_route("/tsa", _Ceiling())
    return app


class _Certomancer:
    def __init__(self) -> None:
        from asn1crypto import keys, pem, x509
        from certomancer.services import TimeStamper

        with open(os.environ["BENCH_TSA_CERT"], "rb") as handle:
            cert = x509.Certificate.load(pem.unarmor(handle.read())[2])
        with open(os.environ["BENCH_TSA_KEY"], "rb") as handle:
            key = keys.PrivateKeyInfo.load(pem.unarmor(handle.read())[2])
        self.stamper = TimeStamper(tsa_cert=cert, tsa_key=key, certs_to_embed=[cert])

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        from asn1crypto import tsp

        query = tsp.TimeStampReq.load(req.bounded_stream.read(4097))
        resp.content_type = REPLY
        resp.data = self.stamper.request_tsa_response(query).dump()


def certomancer() -> falcon.App:
    app = falcon.App()
    app.add_route("/tsa", _Certomancer())
    return app


def tsa_bare() -> falcon.App:
    """Diagnostic only: the same TSA resource and service, in a falcon app without the shared
    middleware (request id, access log, per-request database connection). Shows what the TSA
    itself costs; the production figure is the ``config.wsgi`` run."""
    from config.protocol_lane import App
    from config.runtime import Runtime
    from config.settings import load_settings
    from core import db as core_db
    from tsa.resources import TimeStampResource
    from tsa.service import TimeStampService

    settings = load_settings()
    core_db.bind(core_db.open_database(settings.database.url))
    runtime = Runtime(settings)
    service = TimeStampService(settings.tsa, settings.ca.tsa.name, lambda: runtime.key_store, runtime.clock)
    app = App()  # without middleware; POST /tsa goes straight to the resource
    app.add_post_endpoint("/tsa", TimeStampResource(service))
    return app
