"""The packer and signer: ASiC-E layout (EN 319 162-1 §A.1), XAdES B-B and B-T (EN 319 132-1)
from a PKCS#12, a PKCS#11 token (SoftHSM2) and a second signer, verified by our verifier."""

from __future__ import annotations

import os
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from epackage import PackingError, SigningError, inspect, pack, pack_and_sign, sign_package, verify_offline
from epackage.cli import main
from epackage.signer import Signer, from_pkcs11, from_pkcs12
from hsm.base import KeySpec
from tests.softhsm import softhsm, softhsm_token  # noqa: F401
from tests.verifier.helpers import PNOPL, issue_citizen
from verifier.asic.model import MIMETYPE_E

FORMS = {"wniosek.xml": "<wniosek>Proszę o …</wniosek>".encode(), "załącznik.pdf": b"%PDF-1.7 body"}
PIN = "1234-ąę"


def anchors(vpki) -> dict[str, list[bytes]]:  # type: ignore[no-untyped-def]
    pem = serialization.Encoding.PEM
    return {"anchors": [vpki.root.public_bytes(pem)], "intermediates": [vpki.issuing.public_bytes(pem)]}


def test_pack_writes_mimetype_first_and_stored() -> None:
    """EN 319 162-1 §A.1: mimetype first, stored, no extra field; data files deflated."""
    archive = zipfile.ZipFile(BytesIO(pack(FORMS)))
    first = archive.infolist()[0]
    assert (first.filename, first.compress_type, first.extra) == ("mimetype", zipfile.ZIP_STORED, b"")
    assert archive.read("mimetype") == MIMETYPE_E.encode()
    assert [i.filename for i in archive.infolist()[1:]] == [*FORMS, "META-INF/manifest.xml"]
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist()[1:])
    assert b'manifest:full-path="wniosek.xml" manifest:media-type="application/xml"' in archive.read(
        "META-INF/manifest.xml"
    )


@pytest.mark.parametrize(
    "name", ["../x.xml", "/abs.xml", "a\\b.xml", "META-INF/x.xml", "mimetype", "a//b", "C:/x"], ids=str
)
def test_pack_refuses_bad_names(name: str) -> None:
    with pytest.raises(PackingError):
        pack({name: b"x"})


def test_pack_refuses_names_differing_only_in_case() -> None:
    with pytest.raises(PackingError):
        pack({"A.xml": b"1", "a.xml": b"2"})


def test_b_t_signature_from_pkcs12_verifies_with_our_tsa(citizen, tsa, vpki, clock) -> None:
    """EN 319 132-1 §5.3: SignatureTimeStamp over ds:SignatureValue; the verifier checks it."""
    p12 = pkcs12.serialize_key_and_certificates(
        b"jan", citizen.key, citizen.cert, None, serialization.BestAvailableEncryption(PIN.encode())
    )
    signer = from_pkcs12(p12, PIN)
    package = pack_and_sign(FORMS, signer, timestamper=tsa, at=clock.now())
    assert tsa.calls == 1
    report = verify_offline(package, **anchors(vpki), at=clock.now())
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    (sig,) = report.signatures
    assert sig.level == "B-T" and sig.timestamps[0].indication == "TOTAL_PASSED"
    assert sig.signer.semantics_identifier == PNOPL


def test_wrong_pin_is_a_signing_error(citizen) -> None:
    p12 = pkcs12.serialize_key_and_certificates(
        b"jan", citizen.key, citizen.cert, None, serialization.BestAvailableEncryption(PIN.encode())
    )
    with pytest.raises(SigningError, match="wrong PIN"):
        from_pkcs12(p12, "0000")


def test_key_must_match_certificate(citizen, vpki, tmp_path) -> None:
    other = issue_citizen(vpki, tmp_path / "other", store=False)
    with pytest.raises(SigningError, match="does not belong"):
        Signer(other.key, citizen.cert)


def test_second_signer_adds_a_signature_file(citizen, vpki, clock, tmp_path) -> None:
    second = issue_citizen(vpki, tmp_path / "second", name="Anna Nowak", semantics_id="PNOPL-02211307589")
    once = pack_and_sign(FORMS, Signer(citizen.key, citizen.cert), at=clock.now())
    twice = sign_package(once, Signer(second.key, second.cert), at=clock.now())
    roles = [(e.name, e.role) for e in inspect(twice)]
    assert ("META-INF/signatures0.xml", "signature") in roles and ("META-INF/signatures1.xml", "signature") in roles
    report = verify_offline(twice, **anchors(vpki), at=clock.now())
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    assert {s.signer.semantics_identifier for s in report.signatures} == {PNOPL, "PNOPL-02211307589"}


def test_offline_verification_without_our_root_finds_no_chain(citizen, clock, vpki) -> None:
    package = pack_and_sign(FORMS, Signer(citizen.key, citizen.cert), at=clock.now())
    stranger = issue_citizen(vpki, Path("/tmp") / f"stranger-{os.getpid()}", foreign=True, store=False)
    report = verify_offline(package, [stranger.cert.public_bytes(serialization.Encoding.PEM)], at=clock.now())
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")


@pytest.mark.hsm
def test_pkcs11_token_key_signs(softhsm_token, vpki, clock) -> None:  # noqa: F811
    """The key is generated on SoftHSM2 and never leaves it; the certificate comes from our CA."""
    store = softhsm_token.key_store(pool_size=1)
    store.generate("citizen-key", KeySpec("ec-p256"))
    public = store.find("citizen-key").public_key()
    certificate = _certificate_for(vpki, public, clock)
    signer = from_pkcs11(softhsm_token.module, softhsm_token.label, softhsm_token.pin, "citizen-key", certificate)
    package = pack_and_sign(FORMS, signer, at=clock.now())
    report = verify_offline(package, **anchors(vpki), at=clock.now())
    assert report.indication == "TOTAL_PASSED", report.to_dict()


def test_p384_key_signs_with_ecdsa_sha384(vpki, clock) -> None:  # type: ignore[no-untyped-def]
    # One key -> hash rule for the project (core.signing; RFC 5480 §4): a P-384 key signs with
    # SHA-384, announced as ecdsa-sha384 (RFC 6931 §2.3.6); before, e-packages always said SHA-256.
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    signer = Signer(key, _certificate_for(vpki, key.public_key(), clock))
    assert signer.algorithm == "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
    package = pack_and_sign(FORMS, signer, at=clock.now())
    report = verify_offline(package, **anchors(vpki), at=clock.now())
    assert report.indication == "TOTAL_PASSED", report.to_dict()


def _certificate_for(vpki, public_key, clock) -> x509.Certificate:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from cryptography.x509.oid import NameOID

    from ca.serials import new_serial
    from core.signing import signature_hash

    issuer = vpki.cert("citizens")
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "Token Holder"), x509.NameAttribute(NameOID.SERIAL_NUMBER, PNOPL)]
    )
    key_usage = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(new_serial())
        .not_valid_before(clock.now() - timedelta(days=1))
        .not_valid_after(clock.now() + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
    )
    key = vpki.key("citizens")
    return builder.sign(key, signature_hash(key))


def test_cli_pack_sign_inspect_verify_with_pin_from_a_file_descriptor(citizen, vpki, tmp_path, capsys) -> None:
    """The PIN comes from --pin-fd, never from argv; the three README commands work as shown."""
    for name, content in FORMS.items():
        (tmp_path / name).write_bytes(content)
    p12 = tmp_path / "jan.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"jan", citizen.key, citizen.cert, None, serialization.BestAvailableEncryption(PIN.encode())
        )
    )
    root = tmp_path / "root.pem"
    root.write_bytes(
        vpki.root.public_bytes(serialization.Encoding.PEM) + vpki.issuing.public_bytes(serialization.Encoding.PEM)
    )
    out = tmp_path / "paczka.asice"
    assert main(["pack", str(out), *(str(tmp_path / n) for n in FORMS)]) == 0
    read_end, write_end = os.pipe()
    os.write(write_end, PIN.encode() + b"\n")
    os.close(write_end)
    assert main(["sign", str(out), "--pkcs12", str(p12), "--pin-fd", str(read_end)]) == 0
    assert main(["inspect", str(out)]) == 0
    assert "META-INF/signatures0.xml" in capsys.readouterr().out
    assert main(["verify", str(out), "--trust-anchor", str(root)]) == 0
    assert '"indication": "TOTAL_PASSED"' in capsys.readouterr().out
    assert main(["sign", str(out), "--pkcs12", str(p12), "--pin-fd", "0"]) == 2  # already signed
    assert "add-signature" in capsys.readouterr().err


def test_cli_has_no_pin_option() -> None:
    from epackage.cli import parser

    with pytest.raises(SystemExit):
        parser().parse_args(["sign", "x.asice", "--pin", "1234"])


def test_cli_verify_through_the_server(
    citizen, clock, settings, db, key_store, vpki, tmp_path, capsys, monkeypatch
) -> None:
    """``verify --server`` posts the package to /api/v1/verifications (token from the environment)."""
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from enrollment.admin import Administration
    from tests.conftest import make_client

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:  # keep the test output clean
            pass

    portal = Administration(settings.enrollment, clock).add_portal_client(
        name="portal", scopes=["verify"], actor="test"
    )
    app = make_client(settings, ["verifier"], db, clock, key_store).app
    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        path = tmp_path / "p.asice"
        path.write_bytes(pack_and_sign(FORMS, Signer(citizen.key, citizen.cert), at=clock.now()))
        monkeypatch.setenv("SEKAP_TOKEN", portal.token)
        url = f"http://127.0.0.1:{server.server_port}"
        assert main(["verify", str(path), "--server", url]) == 0
        assert '"container": "ASiC-E"' in capsys.readouterr().out
        monkeypatch.setenv("SEKAP_TOKEN", "stp_wrong")
        assert main(["verify", str(path), "--server", url]) == 2
        assert "answered 401" in capsys.readouterr().err
        assert main(["verify", str(path), "--server", "http://127.0.0.1:9"]) == 2
        assert "cannot be reached" in capsys.readouterr().err
    finally:
        server.shutdown()
        thread.join(timeout=10)
