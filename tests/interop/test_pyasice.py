"""ASiC-E interop with pyasice (an independent implementation, PyPI), run in its own environment
(``.venv-pyasice``, built by ``make interop-env``): packages pyasice makes verify here, and
packages our packer makes open and verify in pyasice."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from epackage import pack_and_sign, sign_package
from epackage.signer import Signer
from tests.interop.pyasice_env import python
from tests.verifier.helpers import issue_citizen

pytestmark = pytest.mark.interop
DRIVER = Path(__file__).with_name("pyasice_driver.py")
ASIC_E = "application/vnd.etsi.asic-e+zip"
FORMS = {"wniosek.xml": "<wniosek>Treść</wniosek>".encode(), "zalacznik.xml": b"<zalacznik/>"}


def run(*args: str) -> str:
    interpreter = python()
    assert interpreter.exists(), "pyasice's environment is missing: run `make interop-env`"
    command = [str(interpreter), str(DRIVER), *args]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_pyasice_package_verifies_here(verify, citizen, tmp_path: Path) -> None:
    for name, content in FORMS.items():
        (tmp_path / name).write_bytes(content)
    out = tmp_path / "pyasice.asice"
    run("make", str(out), str(citizen.key_path), str(citizen.cert_path), *(str(tmp_path / n) for n in FORMS))
    report = verify(out.read_bytes(), ASIC_E)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    assert {f.name for f in report.package.files} == set(FORMS)
    assert all(f.valid_signatures for f in report.package.files)


def test_our_package_opens_and_verifies_in_pyasice(citizen, vpki, clock, tmp_path: Path) -> None:
    second = issue_citizen(vpki, tmp_path / "second", name="Anna Nowak", semantics_id="PNOPL-02211307589")
    package = pack_and_sign(FORMS, Signer(citizen.key, citizen.cert), at=clock.now())
    package = sign_package(package, Signer(second.key, second.cert), at=clock.now())
    path = tmp_path / "ours.asice"
    path.write_bytes(package)
    seen = json.loads(run("verify", str(path)))
    assert seen["data_files"] == sorted(FORMS)
    assert seen["signatures"] == ["META-INF/signatures0.xml", "META-INF/signatures1.xml"]


def test_pyasice_rejects_our_package_when_a_signature_is_forged(citizen, clock, tmp_path: Path) -> None:
    """The check above can fail: a flipped SignatureValue is refused by pyasice too."""
    import io
    import zipfile

    package = pack_and_sign(FORMS, Signer(citizen.key, citizen.cert), at=clock.now())
    source = zipfile.ZipFile(io.BytesIO(package))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "META-INF/signatures0.xml":
                start = data.index(b">", data.index(b"<ds:SignatureValue")) + 5
                data = data[:start] + (b"A" if data[start : start + 1] != b"A" else b"B") + data[start + 1 :]
            target.writestr(info, data)
    path = tmp_path / "forged.asice"
    path.write_bytes(buffer.getvalue())
    interpreter = python()
    command = [str(interpreter), str(DRIVER), "verify", str(path)]
    result = subprocess.run(command, check=False, capture_output=True, timeout=120)
    assert result.returncode != 0
