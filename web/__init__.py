"""Server-rendered Polish pages (an edge, like ``config``): public verification, citizen pages, the
officer console, read-only administration. No business rules here: the pages call the services the
REST resources use. Security of every page: :mod:`web.security`.

Nothing is imported here: ``config.settings`` reads :mod:`web.settings`, and a process that does
not mount the pages (a verifier- or OCSP-only host) must not load the services they use.
"""
