"""JSON log lines with request ids; personal data masked even if a library logs it."""

from __future__ import annotations

import io
import json
import logging

import pytest

from config.logging_setup import JSONFormatter, RedactingFormatter, configure_logging, redact
from config.settings import LoggingSettings
from core.request_context import request_id


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
    handler.setFormatter(RedactingFormatter(JSONFormatter()))
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
