"""A reference app for the OCSP benchmark: a falcon endpoint answering fixed bytes, served by the
same gunicorn configuration, to show what the HTTP stack alone costs:

    gunicorn -c python:config.gunicorn_conf 'bench.ocsp_apps:ceiling()'
"""

from __future__ import annotations

import falcon


class _Ceiling:
    """Reads the body and answers fixed bytes: what gunicorn + falcon cost without any OCSP work."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.bounded_stream.read(65537)
        resp.content_type = "application/ocsp-response"
        resp.data = _FIXED


_FIXED = b"\x30\x82\x03\x50" + b"\x00" * 848  # about the size of a real response


def ceiling() -> falcon.App:
    app = falcon.App()
    app.add_route("/ocsp", _Ceiling())
    return app


def ceiling_both() -> falcon.App:
    """The fixed-bytes endpoint at ``/ocsp`` (≈ 850 B) and ``/tsa`` (≈ 1 KB), for any server."""
    from bench.tsa_apps import FIXED_REPLY

    class _TSACeiling:
        def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
            req.bounded_stream.read(4097)
            resp.content_type = "application/timestamp-reply"
            resp.data = FIXED_REPLY

    app = ceiling()
    app.add_route("/tsa", _TSACeiling())
    return app
