"""JSON-lines logging with request ids. Personal data never goes into log calls; the audit trail
is a separate channel in the database."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from config.settings import LoggingSettings
from core.request_context import request_id

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


# A safety net, not the policy: code never logs personal data, and anything shaped like a PESEL,
# a semantics identifier or a Polish ID card / passport number that slips through (from a
# library's message, say) is masked before the line is written.
_PERSONAL = re.compile(r"\b(?:(?P<prefix>PNOPL|IDCPL|PASPL|TINPL)-[0-9A-Z]+|\d{11}|[A-Z]{3}\d{6}|[A-Z]{2}\d{7})\b")


def redact(text: str) -> str:
    return _PERSONAL.sub(lambda m: f"{m.group('prefix')}-[redacted]" if m.group("prefix") else "[redacted]", text)


class RedactingFormatter(logging.Formatter):
    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def configure_logging(settings: LoggingSettings) -> None:
    inner = JSONFormatter() if settings.json else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(inner))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # peewee logs SQL with its parameters (PESELs among them) at DEBUG: never let that through.
    logging.getLogger("peewee").setLevel(max(logging.INFO, root.level))
