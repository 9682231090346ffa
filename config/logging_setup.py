"""JSON-lines logging with request ids. Personal data never goes into log calls; the audit trail
is a separate channel in the database."""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

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
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


# A safety net, not the policy: code never logs personal data, and anything shaped like a PESEL,
# a semantics identifier or a Polish ID card / passport number that slips through (from a
# library's message, say) is masked before the line is written.
_PERSONAL = re.compile(r"\b(?:(?P<prefix>PNOPL|IDCPL|PASPL|TINPL)-[0-9A-Z]+|\d{11}|[A-Z]{3}\d{6}|[A-Z]{2}\d{7})\b")


def redact(text: str) -> str:
    return _PERSONAL.sub(lambda m: f"{m.group('prefix')}-[redacted]" if m.group("prefix") else "[redacted]", text)


class RedactingFilter(logging.Filter):
    """Masks personal identifiers in a record — message, arguments, extra fields and exception
    text — before any handler formats it. The exception is kept as text only (``exc_text``),
    since an exception object's message cannot be rewritten."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep both, masked
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and not key.startswith("_") and isinstance(value, str):
                setattr(record, key, redact(value))
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FORMATTER = logging.Formatter()
REDACTING_FILTER = RedactingFilter()


def install_redaction() -> None:
    """Run :data:`REDACTING_FILTER` on every record as it is made, so every handler — ours, a
    library's, one an operator adds later — only ever sees the masked record. (A filter set on
    each handler would miss handlers added after start-up.) Idempotent."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        REDACTING_FILTER.filter(record)
        return record

    make_record.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)


ACCESS_LOGGER = "sekap_trust.access"
_access_logger = logging.getLogger(ACCESS_LOGGER)
_json_string = json.encoder.encode_basestring_ascii  # C-accelerated: quotes and escapes one str


class AccessLog:
    """One line per request: method, path, status, duration, request id.

    Until :func:`configure_logging` sets up JSON lines, the line goes through the
    ``sekap_trust.access`` logger like any other. After that it is rendered here and written to
    the log handler's stream in batches: it is written for every request, and on the OCSP and
    TSA hot paths the generic route (LogRecord, JSONFormatter's extras loop, a redaction pass
    over the whole line, then a lock and a write(2) per line, with every thread of the worker
    queueing on that lock) cost more than a cached OCSP answer.

    Lines are collected and written together once they would exceed :data:`FLUSH_BYTES` (one
    write of at most PIPE_BUF bytes is never split on a pipe, so lines of several workers never
    mix) and at least every :data:`FLUSH_SECONDS` by a small thread, like nginx's buffered
    access log; a crash loses at most that second of access lines (never audit data, which is
    in the database). Only the path is client-controlled text, so only it is redacted; the
    request id is already restricted to ``[A-Za-z0-9._-]``. Lines are ASCII (JSON escapes)."""

    FLUSH_BYTES = 4096
    FLUSH_SECONDS = 1.0

    def __init__(self) -> None:
        self._handler: logging.StreamHandler[Any] | None = None
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._pending_size = 0
        self._flusher_running = False
        os.register_at_fork(after_in_child=self._forget_flusher)  # threads do not survive a fork
        self._second = -1
        self._second_text = ""

    def write_direct_to(self, handler: logging.StreamHandler[Any] | None) -> None:
        self.flush()
        self._handler = handler

    def write(self, method: str, path: str, status: str, duration_ms: float, rid: str | None) -> None:
        handler = self._handler
        if handler is None:
            if _access_logger.isEnabledFor(logging.INFO):
                _access_logger.info(
                    "%s %s %s", method, path, status, extra={"duration_ms": duration_ms, "status": status}
                )
            return
        now = time.time()
        line = (
            f'{{"time": "{self._time(now)}", "level": "INFO", "logger": "{ACCESS_LOGGER}", '
            f'"message": {_json_string(f"{method} {redact(path)} {status}")}, '
            f'"request_id": {_json_string(rid) if rid else "null"}, "duration_ms": {float(duration_ms)}, '
            f'"status": {_json_string(status)}}}\n'
        )
        with self._lock:
            if self._pending_size + len(line) > self.FLUSH_BYTES:
                self._write_pending(handler)
            self._pending.append(line)
            self._pending_size += len(line)
        if not self._flusher_running:
            self._start_flusher()

    def flush(self) -> None:
        handler = self._handler
        if handler is not None:
            with self._lock:
                self._write_pending(handler)

    def _write_pending(self, handler: logging.StreamHandler[Any]) -> None:
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        handler.acquire()  # other log lines of this process use the same stream
        try:
            handler.stream.write(text)
            handler.stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken log stream never fails a request
        finally:
            handler.release()

    def _start_flusher(self) -> None:
        # One per process, started in the process that writes (gunicorn forks after import).
        with self._lock:
            if self._flusher_running:
                return
            self._flusher_running = True
        threading.Thread(target=self._flush_every_second, name="access-log-flush", daemon=True).start()

    def _forget_flusher(self) -> None:
        self._flusher_running = False
        self._lock = threading.Lock()  # it may have been held by another thread at the fork
        self._pending.clear()  # the parent writes its own lines
        self._pending_size = 0

    def _flush_every_second(self) -> None:
        while True:
            time.sleep(self.FLUSH_SECONDS)
            self.flush()

    def _time(self, now: float) -> str:
        # The text JSONFormatter writes (ISO 8601, milliseconds, UTC); the seconds part is reused.
        second = int(now)
        if second != self._second:
            self._second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return f"{self._second_text}.{int((now - second) * 1000):03d}+00:00"


ACCESS_LOG = AccessLog()
atexit.register(ACCESS_LOG.flush)


def configure_logging(settings: LoggingSettings) -> None:
    inner = JSONFormatter() if settings.json else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(inner)
    handler.addFilter(REDACTING_FILTER)  # records made before install_redaction() too
    install_redaction()
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    direct = settings.json and _access_logger.isEnabledFor(logging.INFO)
    ACCESS_LOG.write_direct_to(handler if direct else None)
    # peewee logs SQL with its parameters (PESELs among them) at DEBUG: never let that through.
    logging.getLogger("peewee").setLevel(max(logging.INFO, root.level))
