"""Format detection, multipart parsing (RFC 7578 / RFC 2046 §5.1) and DER walking, with Hypothesis."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.verifier.helpers import multipart
from verifier.detect import check_der_nesting, parse_multipart, parse_submission, sniff
from verifier.errors import MalformedMultipartError, UnparseableDocumentError, UnsupportedMediaTypeError, VerifierError

names = st.text(alphabet=st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=12)
payloads = st.binary(max_size=300)


@given(
    parts=st.lists(
        st.tuples(names, st.one_of(st.none(), names), payloads), min_size=1, max_size=6, unique_by=lambda p: p[0]
    )
)
def test_multipart_round_trip(parts) -> None:  # type: ignore[no-untyped-def]
    boundary = "hyp-boundary-0123456789"
    if any(boundary.encode() in data for _, _, data in parts):
        return
    _ct, body = multipart([(n, f, "application/octet-stream", d) for n, f, d in parts], boundary=boundary)
    parsed = parse_multipart(body, boundary)
    assert [(p.name, p.filename, p.data) for p in parsed] == [(n, f, d) for n, f, d in parts]


@given(body=st.binary(max_size=2000), boundary=st.sampled_from(["x", "abc-123", "----WebKitFormBoundary7MA4YWxk"]))
def test_multipart_parser_only_raises_its_own_error(body, boundary) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(MalformedMultipartError):
        parse_multipart(body, boundary)


@given(
    body=st.binary(max_size=500),
    content_type=st.sampled_from(
        [
            "application/pdf",
            "application/xml",
            "text/xml",
            "application/pkcs7-mime",
            "application/cms",
            "application/octet-stream",
            "multipart/form-data; boundary=b",
            "application/zip",
            "",
            "garbage/;;=",
        ]
    ),
)
def test_parse_submission_raises_only_verifier_errors(body, content_type) -> None:  # type: ignore[no-untyped-def]
    try:
        submission = parse_submission(content_type, body)
    except (VerifierError, UnsupportedMediaTypeError):
        return
    assert submission.kind in ("pdf", "xml", "cms", "asic")


@settings(max_examples=300)
@given(body=st.binary(max_size=400))
def test_der_walker_never_crashes(body) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(UnparseableDocumentError):
        check_der_nesting(body)


def test_der_walker_accepts_real_der_and_refuses_depth() -> None:
    check_der_nesting(bytes.fromhex("300602010102010a"))
    deep = b"\x30\x80" * 65 + b"\x00\x00" * 65
    with pytest.raises(UnparseableDocumentError):
        check_der_nesting(deep)
    check_der_nesting(b"\x30\x80" * 10 + b"\x00\x00" * 10)


@pytest.mark.parametrize(
    "data,kind",
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"junk\n%PDF-1.4", "pdf"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><a/>", "xml"),
        (b"  \n<a/>", "xml"),
        (b"\x30\x82", "cms"),
        (b"-----BEGIN PKCS7-----", "cms"),
        (b"PK\x03\x04", "asic"),  # EN 319 162-1 containers are sniffed
    ],
)
def test_sniff(data, kind) -> None:  # type: ignore[no-untyped-def]
    assert sniff(data) == kind


def test_declared_type_must_match_content() -> None:
    with pytest.raises(UnparseableDocumentError):
        parse_submission("application/pdf", b"<a/>")
    with pytest.raises(UnsupportedMediaTypeError):
        parse_submission("image/png", b"\x89PNG")
    assert parse_submission("application/octet-stream", b"%PDF-1.7").kind == "pdf"


def test_multipart_rules() -> None:
    ct, body = multipart([("document", "a.txt", None, b"x")])
    with pytest.raises(MalformedMultipartError):  # no signature part
        parse_submission(ct, body)
    ct, body = multipart([("signature", None, "application/xml", b"<a/>")])
    with pytest.raises(MalformedMultipartError):  # no content part
        parse_submission(ct, body)
    ct, body = multipart(
        [("signature", None, "application/xml", b"<a/>"), ("a", "x", None, b"1"), ("b", "x", None, b"2")]
    )
    with pytest.raises(MalformedMultipartError):  # duplicate labels
        parse_submission(ct, body)
    ct, body = multipart([("signature", None, None, b"<a/>"), *[(f"p{i}", None, None, b"1") for i in range(20)]])
    with pytest.raises(MalformedMultipartError):  # too many parts
        parse_submission(ct, body)
