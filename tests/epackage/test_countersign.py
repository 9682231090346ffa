"""The packer's counter-sign (EN 319 132-1 §5.2.7.2 for XAdES, RFC 5652 §11.4 for CAdES): from
a PKCS#12 through the command (PIN from a file descriptor), from a PKCS#11 token, and the
refusals that name what is missing; verified offline by our verifier."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

from epackage import SigningError, counter_sign_package, pack_and_sign, sign_package, verify_offline
from epackage.cli import main
from epackage.pack import open_package, replace_file
from epackage.signer import Signer, from_pkcs11
from hsm.base import KeySpec
from tests.epackage.test_epackage import FORMS, PIN, _certificate_for, anchors
from tests.softhsm import softhsm, softhsm_token  # noqa: F401
from tests.verifier.helpers import issue_citizen

XML = "META-INF/signatures0.xml"


def _signed(citizen, clock) -> bytes:  # type: ignore[no-untyped-def]
    return pack_and_sign(FORMS, Signer(citizen.key, citizen.cert), at=clock.now())


def test_cli_counter_sign_with_pin_from_a_file_descriptor(citizen, vpki, clock, tmp_path, capsys) -> None:
    """EN 319 132-1 §5.2.7.2 through `sekap-package counter-sign`: the PIN from --pin-fd, the
    package's entries unchanged but for the signature file."""
    witness = issue_citizen(vpki, tmp_path / "witness", name="Anna Świadek")
    p12 = tmp_path / "anna.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"anna", witness.key, witness.cert, None, serialization.BestAvailableEncryption(PIN.encode())
        )
    )
    package = tmp_path / "paczka.asice"
    package.write_bytes(_signed(citizen, clock))
    read_end, write_end = os.pipe()
    os.write(write_end, PIN.encode() + b"\n")
    os.close(write_end)
    out = tmp_path / "kontrasygnowana.asice"
    argv = ["counter-sign", str(package), "-o", str(out), "--pkcs12", str(p12), "--pin-fd", str(read_end)]
    assert main(argv) == 0
    assert "counter-signed" in capsys.readouterr().out
    report = verify_offline(out.read_bytes(), **anchors(vpki), at=clock.now())
    assert report.indication == "TOTAL_PASSED"
    (counter,) = report.signatures[0].counter_signatures
    assert (counter.indication, counter.signer.name) == ("TOTAL_PASSED", "Anna Świadek")
    assert open_package(out.read_bytes()).keys() == open_package(package.read_bytes()).keys()


@pytest.mark.hsm
def test_pkcs11_token_key_counter_signs(softhsm_token, citizen, vpki, clock) -> None:  # noqa: F811
    """EN 319 132-1 §5.2.7.2 with a key on SoftHSM2 that never leaves it."""
    store = softhsm_token.key_store(pool_size=1)
    store.generate("witness-key", KeySpec("ec-p256"))
    certificate = _certificate_for(vpki, store.find("witness-key").public_key(), clock)
    signer = from_pkcs11(softhsm_token.module, softhsm_token.label, softhsm_token.pin, "witness-key", certificate)
    package = counter_sign_package(_signed(citizen, clock), signer, at=clock.now())
    report = verify_offline(package, **anchors(vpki), at=clock.now())
    assert report.signatures[0].counter_signatures[0].indication == "TOTAL_PASSED", report.to_dict()


def test_several_signature_files_need_one_named(citizen, vpki, clock, tmp_path) -> None:
    """EN 319 162-1 §4.4.3.2: with two signature files the one to counter-sign must be named."""
    second = issue_citizen(vpki, tmp_path / "second", name="Ewa Druga")
    package = sign_package(_signed(citizen, clock), Signer(second.key, second.cert), at=clock.now())
    witness = Signer(citizen.key, citizen.cert)
    with pytest.raises(SigningError, match="2 signature files"):
        counter_sign_package(package, witness)
    with pytest.raises(SigningError, match="not a signature file"):
        counter_sign_package(package, witness, signature_file="wniosek.xml")
    signed = counter_sign_package(package, witness, signature_file="META-INF/signatures1.xml", at=clock.now())
    report = verify_offline(signed, **anchors(vpki), at=clock.now())
    assert [len(s.counter_signatures) for s in report.signatures] == [0, 1]


def test_refusals_name_what_is_missing(citizen, clock) -> None:
    """EN 319 132-1 §5.2.7.2: the countered SignatureValue must carry an Id to be referenced; an
    unknown signature Id is refused."""
    package = _signed(citizen, clock)
    signer = Signer(citizen.key, citizen.cert)
    with pytest.raises(SigningError, match="no single signature with Id 'S-nope'"):
        counter_sign_package(package, signer, signature_id="S-nope")

    def without_value_id(content: bytes) -> bytes:
        root = etree.fromstring(content)
        value = root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
        del value.attrib["Id"]
        return bytes(etree.tostring(root))

    bare = replace_file(package, XML, without_value_id(open_package(package)[XML]))
    with pytest.raises(SigningError, match="SignatureValue has no Id"):
        counter_sign_package(bare, signer)


def test_cms_signature_is_chosen_by_index(citizen, vpki, clock, tmp_path: Path) -> None:
    """RFC 5652 §11.4 on the N-th SignerInfo (`cms-N`, the verifier's id) of a CAdES signature file."""
    from tests.verifier.test_asic import _cades_package

    package = _cades_package(citizen, tmp_path)
    signer = Signer(citizen.key, citizen.cert)
    with pytest.raises(SigningError, match="no signature 'cms-3'"):
        counter_sign_package(package, signer, signature_id="cms-3")
    signed = counter_sign_package(package, signer, signature_id="cms-0", at=clock.now())
    report = verify_offline(signed, **anchors(vpki), at=clock.now())
    assert report.signatures[0].counter_signatures[0].indication == "TOTAL_PASSED", report.to_dict()
