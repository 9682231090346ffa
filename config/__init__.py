"""Settings and the composition root (app factory, gunicorn config, CLI).

No service package imports ``config``; settings reach services as arguments and the database
through the proxy bound here.
"""
