"""Operational events the service packages report and the composition root turns into metrics
and audit records (issue 15 items 8 and 10).

A package below ``config`` (``hsm``, ``ocsp``, ``tsa``, ``ca``, ``core.db``) cannot import the
metrics or the audit wiring, and must not learn about them: it calls :func:`emit` with an event
name and a few plain fields, and whatever ``config`` subscribed receives them. With nobody
subscribed (the CLI without an app, unit tests) an event costs one empty loop.

Handlers run synchronously in the emitting thread, possibly inside the emitter's locks, so they
must be quick and must not raise or touch the database themselves (the audit handler queues;
see ``config.system_audit``). An exception in a handler is logged, never passed to the emitter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]

# Event names (the fields each carries in brackets).
HSM_SESSION_LOST = "hsm.session_lost"  # token, operation, error
HSM_SESSION_RECOVERED = "hsm.session_recovered"  # token, operation
DATABASE_UNAVAILABLE = "db.unavailable"
OCSP_CACHE = "ocsp.cache"  # outcome: hit | miss | bypass
TIMESTAMP_ISSUED = "tsa.timestamp_issued"  # policy
CERTIFICATE_ISSUED = "ca.certificate_issued"  # issuer, profile

_handlers: tuple[Handler, ...] = ()


def subscribe(handler: Handler) -> None:
    """Add ``handler`` (once: subscribing the same handler again changes nothing)."""
    global _handlers
    if handler not in _handlers:
        _handlers = (*_handlers, handler)


def unsubscribe(handler: Handler) -> None:
    global _handlers
    _handlers = tuple(h for h in _handlers if h != handler)


def emit(name: str, **fields: Any) -> None:
    """Tell every subscriber that ``name`` happened. Never raises."""
    for handler in _handlers:
        try:
            handler(name, fields)
        except Exception:
            logger.exception("event handler for %s failed", name)
