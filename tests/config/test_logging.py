"""JSON log lines with request ids; personal data masked even if a library logs it."""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Iterator

import pytest

from config.logging_setup import ACCESS_LOG, JSONFormatter, RedactingFilter, configure_logging, redact
from config.settings import LoggingSettings
from core.request_context import request_id


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: root handlers, level, the record factory."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogRecordFactory()
    yield
    root.handlers[:], level, factory = saved
    root.setLevel(level)
    logging.setLogRecordFactory(factory)
    logging.getLogger("peewee").setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subject serialNumber=PNOPL-44051401359", "subject serialNumber=PNOPL-[redacted]"),
        ("pesel 44051401359 found", "pesel [redacted] found"),
        ("document ABS123456 checked", "document [redacted] checked"),
        ("passport CC7999486", "passport [redacted]"),
        ("IDCPL-ABS123456 and PASPL-CC7999486", "IDCPL-[redacted] and PASPL-[redacted]"),
    ],
)
def test_personal_identifiers_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "serial 478EDE621E906A0B9628A9D5B32E94A38BA1E7C2",
        "request 0f8e9b2c4d5a6e7f8091a2b3c4d5e6f7",
        "took 12.5 ms at 2026-11-22T16:35:07+00:00",
        "application 42 issued",
    ],
)
def test_ordinary_values_are_kept(text: str) -> None:
    assert redact(text) == text


def test_lines_are_json_with_request_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.logging")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    token = request_id.set("rid-1")
    try:
        logger.info("issued for %s", "PNOPL-44051401359", extra={"serial": "0A"})
    finally:
        request_id.reset(token)
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["request_id"] == "rid-1" and line["serial"] == "0A" and line["level"] == "INFO"
    assert "44051401359" not in stream.getvalue()


@pytest.mark.parametrize("json_lines", [True, False], ids=["json", "text"])
def test_a_second_handler_never_sees_a_pesel(json_lines: bool) -> None:
    """Redaction is not the project's formatter: a handler added later by anyone (a library, an
    operator's syslog handler) sees the masked record too — message, extras and traceback."""
    configure_logging(LoggingSettings(level="INFO", json=json_lines))
    first = io.StringIO()
    logging.getLogger().handlers[0].setStream(first)  # type: ignore[attr-defined]
    second, third = io.StringIO(), io.StringIO()
    plain = logging.StreamHandler(second)
    plain.setFormatter(logging.Formatter("%(message)s %(holder)s"))
    logging.getLogger().addHandler(plain)
    child = logging.getLogger("tests.logging.second")
    on_child = logging.StreamHandler(third)
    child.addHandler(on_child)
    try:
        child.warning("citizen %s checked", "44051401359", extra={"holder": "PNOPL-02070803628"})
        try:
            raise ValueError("document ABS123456 of 83071503434 rejected")
        except ValueError:
            child.exception("check failed for %s", "CC7999486", extra={"holder": "-"})
    finally:
        logging.getLogger().removeHandler(plain)
        child.removeHandler(on_child)
    for stream in (first, second, third):
        text = stream.getvalue()
        assert "[redacted]" in text and "ValueError" in text, text
        for value in ("44051401359", "02070803628", "ABS123456", "83071503434", "CC7999486"):
            assert value not in text, (value, text)


def test_redaction_keeps_badly_formatted_records_and_extras_masked() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "%d items for %s", ("many", "44051401359"), None)
    RedactingFilter().filter(record)
    assert "44051401359" not in record.getMessage() and "[redacted]" in record.getMessage()


def test_peewee_sql_parameters_are_never_logged_even_at_debug() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(LoggingSettings(level="DEBUG", json=True))
        assert not logging.getLogger("peewee").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        logging.getLogger("peewee").setLevel(logging.NOTSET)


def test_access_lines_go_straight_to_the_json_handler_with_the_path_masked() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(LoggingSettings(level="INFO", json=True))
        (handler,) = root.handlers
        assert isinstance(handler, logging.StreamHandler)
        stream = io.StringIO()
        handler.setStream(stream)
        ACCESS_LOG.write("GET", "/x/44051401359", "404 Not Found", 1.5, "rid-9")
        ACCESS_LOG.flush()
        entry = json.loads(stream.getvalue())
        assert entry["message"] == "GET /x/[redacted] 404 Not Found"
        assert entry["request_id"] == "rid-9" and entry["duration_ms"] == 1.5
        # Below INFO nothing is written; plain-text logging uses the ordinary logger path.
        configure_logging(LoggingSettings(level="WARNING", json=True))
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        ACCESS_LOG.write("GET", "/y", "200 OK", 1.0, None)
        ACCESS_LOG.flush()
        assert "/y" not in stream.getvalue()
    finally:
        ACCESS_LOG.write_direct_to(None)
        root.handlers[:], level = saved
        root.setLevel(level)
        logging.getLogger("peewee").setLevel(logging.NOTSET)


class _CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_access_lines_are_written_in_whole_line_chunks_of_at_most_pipe_buf() -> None:
    """POSIX write(2): at most PIPE_BUF (4096) octets are written to a pipe atomically, so
    chunks of whole lines up to that size never interleave with other workers' lines."""
    stream = _CountingStream()
    ACCESS_LOG.write_direct_to(logging.StreamHandler(stream))
    try:
        for n in range(100):
            ACCESS_LOG.write("POST", f"/ocsp/{n}", "200 OK", 0.5, f"rid-{n}")
        assert stream.writes, "a full buffer is written without waiting for the timer"
        ACCESS_LOG.flush()
    finally:
        ACCESS_LOG.write_direct_to(None)
    assert all(len(chunk.encode()) <= 4096 and chunk.endswith("\n") for chunk in stream.writes)
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["request_id"] for line in lines] == [f"rid-{n}" for n in range(100)]


def test_buffered_access_lines_are_flushed_within_a_second() -> None:
    stream = _CountingStream()
    ACCESS_LOG.write_direct_to(logging.StreamHandler(stream))
    try:
        ACCESS_LOG.write("GET", "/healthz", "200 OK", 0.1, None)
        deadline = time.monotonic() + 5 * ACCESS_LOG.FLUSH_SECONDS
        while not stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ACCESS_LOG.write_direct_to(None)
    assert json.loads(stream.getvalue())["message"] == "GET /healthz 200 OK"


def test_a_forked_worker_flushes_its_own_access_lines() -> None:
    """gunicorn forks workers after import: the flusher thread of the parent does not exist in
    the child, so the child must start its own (or its lines would wait for a full buffer)."""
    parent_stream = _CountingStream()
    ACCESS_LOG.write_direct_to(logging.StreamHandler(parent_stream))
    ACCESS_LOG.write("GET", "/parent", "200 OK", 0.1, None)  # starts the parent's flusher
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write one line, wait without flushing, report what reached the pipe
        try:
            os.close(read_fd)
            child_stream = _CountingStream()
            ACCESS_LOG.write_direct_to(logging.StreamHandler(child_stream))
            ACCESS_LOG.write("GET", "/child", "200 OK", 0.1, None)
            time.sleep(3 * ACCESS_LOG.FLUSH_SECONDS)
            os.write(write_fd, child_stream.getvalue().encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        os.waitpid(pid, 0)
        with os.fdopen(read_fd, "rb") as pipe:
            written = pipe.read().decode()
    finally:
        ACCESS_LOG.write_direct_to(None)
    assert [json.loads(line)["message"] for line in written.splitlines()] == ["GET /child 200 OK"]
