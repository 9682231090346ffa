"""ASiC-S / ASiC-E validation (ETSI EN 319 162-1): per-signature and per-file reports, the
package policy (every data file covered by a valid signature) and the REST media types."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from epackage.api import pack_and_sign, sign_package
from epackage.pack import add_file, pack
from epackage.signer import Signer
from tests.conftest import make_client
from tests.verifier.helpers import PNOPL, PORTAL, PrincipalMiddleware, issue_citizen, openssl_cms_sign
from verifier.asic.model import MIMETYPE_E, MIMETYPE_S

ASIC_E = MIMETYPE_E
FORMS = {"wniosek-1.xml": "<wniosek>Treść 1</wniosek>".encode(), "załącznik 2.pdf": b"%PDF-1.7 fake body"}


def signer_of(citizen) -> Signer:  # type: ignore[no-untyped-def]
    return Signer(citizen.key, citizen.cert)


def raw_zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            archive.writestr(info, data)
    return buffer.getvalue()


def test_asic_e_xades_signed_by_citizen_passes_with_every_file_covered(verify, citizen, clock) -> None:
    package = pack_and_sign(FORMS, signer_of(citizen), at=clock.now())
    report = verify(package, ASIC_E)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    (sig,) = report.signatures
    assert sig.format == "XAdES" and sig.signer.semantics_identifier == PNOPL
    assert sig.id.startswith("META-INF/signatures0.xml#")
    package_info = report.to_dict()["package"]
    assert package_info["container"] == "ASiC-E"
    assert package_info["mimetype"] == {
        "present": True,
        "value": MIMETYPE_E,
        "first": True,
        "stored": True,
        "extra_field": False,
        "problems": [],
    }
    assert [f["name"] for f in package_info["files"]] == sorted(FORMS)
    assert all(f["valid_signatures"] == [sig.id] for f in package_info["files"])
    assert package_info["not_covered"] == []
    assert package_info["signature_files"][0]["covers"] == sorted(FORMS)


def test_sniffed_zip_and_octet_stream_are_containers(verify, citizen, clock) -> None:
    package = pack_and_sign(FORMS, signer_of(citizen), at=clock.now())
    assert verify(package, "application/octet-stream").indication == "TOTAL_PASSED"
    assert verify(package, "application/zip").package is not None


def test_file_added_after_signing_is_reported_not_covered(verify, citizen, clock) -> None:
    """EN 319 162-1 §4.4.3: every data file must be covered; the late file is named."""
    package = add_file(pack_and_sign(FORMS, signer_of(citizen), at=clock.now()), "dopisany.txt", b"later")
    report = verify(package, ASIC_E)
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE")
    assert report.signatures[0].indication == "TOTAL_PASSED"
    assert report.package.not_covered == ("dopisany.txt",)
    assert any("dopisany.txt: not covered by any signature" in w for w in report.warnings)


def test_tampered_data_file_is_hash_failure_and_names_the_file(verify, citizen, clock) -> None:
    package = pack_and_sign(FORMS, signer_of(citizen), at=clock.now())
    entries = {
        i.filename: zipfile.ZipFile(io.BytesIO(package)).read(i)
        for i in zipfile.ZipFile(io.BytesIO(package)).infolist()
    }
    entries["wniosek-1.xml"] = "<wniosek>Treść zmieniona</wniosek>".encode()
    tampered = raw_zip(
        [(n, d, zipfile.ZIP_STORED if n == "mimetype" else zipfile.ZIP_DEFLATED) for n, d in entries.items()]
    )
    report = verify(tampered, ASIC_E)
    assert (report.indication, report.sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")
    files = {f.name: f for f in report.package.files}
    assert files["wniosek-1.xml"].indication == "TOTAL_FAILED"
    assert files["wniosek-1.xml"].reason == "no valid signature covers it"


def test_two_signers_and_untrusted_second_signer(verify, vpki, citizen, clock, tmp_path: Path) -> None:
    """Several signatures: each reported; one untrusted signature keeps the package from passing."""
    second = issue_citizen(vpki, tmp_path / "second", name="Anna Druga", semantics_id="PNOPL-02211307589")
    both = sign_package(pack_and_sign(FORMS, signer_of(citizen), at=clock.now()), signer_of(second), at=clock.now())
    report = verify(both, ASIC_E)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    assert len(report.signatures) == 2
    assert all(len(f.valid_signatures) == 2 for f in report.package.files)
    foreign = issue_citizen(vpki, tmp_path / "foreign", foreign=True)
    mixed = sign_package(pack_and_sign(FORMS, signer_of(citizen), at=clock.now()), signer_of(foreign), at=clock.now())
    report = verify(mixed, ASIC_E)
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    assert all(len(f.valid_signatures) == 1 for f in report.package.files)


def test_unsigned_package_fails_with_every_file_uncovered(verify) -> None:
    report = verify(pack(FORMS), ASIC_E)
    assert (report.indication, report.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert set(report.package.not_covered) == set(FORMS)


def _manifest(signature_name: str, files: dict[str, bytes], *, digest_of: dict[str, bytes] | None = None) -> bytes:
    def digest(name: str) -> str:
        return base64.b64encode(hashlib.sha256((digest_of or files)[name]).digest()).decode()

    refs = "".join(
        f'<asic:DataObjectReference URI="{name}"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f"<ds:DigestValue>{digest(name)}</ds:DigestValue>"
        "</asic:DataObjectReference>"
        for name in files
    )
    return (
        '<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        f'<asic:SigReference URI="{signature_name}" MimeType="application/pkcs7-signature"/>{refs}</asic:ASiCManifest>'
    ).encode()


def _cades_package(citizen, tmp_path: Path, *, tamper: bool = False) -> bytes:  # type: ignore[no-untyped-def]
    files = {"wniosek.xml": b"<wniosek/>", "dane.csv": b"a;b\n1;2\n"}
    manifest = _manifest("META-INF/signature001.p7s", files)
    manifest_path = tmp_path / "manifest.xml"
    manifest_path.write_bytes(manifest)
    p7s = openssl_cms_sign(citizen, manifest_path, attached=False)
    if tamper:
        files = {**files, "dane.csv": b"a;b\n1;3\n"}
    return raw_zip(
        [
            ("mimetype", ASIC_E.encode(), zipfile.ZIP_STORED),
            *[(n, d, zipfile.ZIP_DEFLATED) for n, d in files.items()],
            ("META-INF/ASiCManifest001.xml", manifest, zipfile.ZIP_DEFLATED),
            ("META-INF/signature001.p7s", p7s, zipfile.ZIP_DEFLATED),
        ]
    )


def test_asic_e_cades_with_manifest_passes(verify, citizen, tmp_path: Path) -> None:
    """EN 319 162-1 §4.4.3.3: CAdES detached over ASiCManifest, whose digests cover the files."""
    report = verify(_cades_package(citizen, tmp_path), ASIC_E)
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    (info,) = report.package.signature_files
    assert (info.format, info.manifest, info.covers) == (
        "CAdES",
        "META-INF/ASiCManifest001.xml",
        ("dane.csv", "wniosek.xml"),
    )


def test_asic_e_cades_manifest_digest_mismatch_is_hash_failure(verify, citizen, tmp_path: Path) -> None:
    report = verify(_cades_package(citizen, tmp_path, tamper=True), ASIC_E)
    assert (report.indication, report.sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")
    assert "dane.csv" in report.package.not_covered


def test_asic_s_cades(verify, citizen, tmp_path: Path) -> None:
    """EN 319 162-1 §4.3: ASiC-S, one data file, META-INF/signature.p7s detached over it."""
    content = tmp_path / "pismo.xml"
    content.write_bytes(b"<pismo>tresc</pismo>")
    p7s = openssl_cms_sign(citizen, content, attached=False)
    package = raw_zip(
        [
            ("mimetype", MIMETYPE_S.encode(), zipfile.ZIP_STORED),
            ("pismo.xml", content.read_bytes(), zipfile.ZIP_DEFLATED),
            ("META-INF/signature.p7s", p7s, zipfile.ZIP_DEFLATED),
        ]
    )
    report = verify(package, "application/vnd.etsi.asic-s+zip")
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    assert report.package.container == "ASiC-S"
    assert report.package.files[0].valid_signatures


def test_asic_s_with_two_data_files_is_format_failure(verify, citizen, tmp_path: Path) -> None:
    content = tmp_path / "pismo.xml"
    content.write_bytes(b"<pismo/>")
    package = raw_zip(
        [
            ("mimetype", MIMETYPE_S.encode(), zipfile.ZIP_STORED),
            ("pismo.xml", b"<pismo/>", zipfile.ZIP_DEFLATED),
            ("drugi.xml", b"<drugi/>", zipfile.ZIP_DEFLATED),
            ("META-INF/signature.p7s", openssl_cms_sign(citizen, content, attached=False), zipfile.ZIP_DEFLATED),
        ]
    )
    report = verify(package, "application/vnd.etsi.asic-s+zip")
    assert report.sub_indication == "FORMAT_FAILURE"
    assert any("exactly one data file" in p for p in report.package.problems)


@pytest.mark.parametrize(
    "content_type",
    [ASIC_E, "application/vnd.etsi.asic-s+zip", "application/octet-stream"],
    ids=["asic-e", "asic-s", "octet"],
)
def test_rest_accepts_asic_media_types(app_settings, db, clock, key_store, citizen, content_type) -> None:
    client = make_client(app_settings, ["verifier"], db, clock, key_store)
    client.app.add_middleware(PrincipalMiddleware(PORTAL))
    package = pack_and_sign({"a.xml": b"<a/>"}, signer_of(citizen), at=clock.now())
    result = client.simulate_post("/api/v1/verifications", body=package, headers={"Content-Type": content_type})
    assert result.status_code == 200, result.text
    assert result.json["package"]["files"][0]["name"] == "a.xml"


def test_rest_unreadable_container_is_a_format_failure_report(app_settings, db, clock, key_store, vpki) -> None:
    client = make_client(app_settings, ["verifier"], db, clock, key_store)
    client.app.add_middleware(PrincipalMiddleware(PORTAL))
    result = client.simulate_post("/api/v1/verifications", body=b"PK\x03\x04garbage", headers={"Content-Type": ASIC_E})
    assert result.status_code == 200, result.text
    assert (result.json["indication"], result.json["sub_indication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert result.json["package"]["container"] is None


def test_asic_s_xades(verify, citizen, clock) -> None:
    """EN 319 162-1 §4.3.3: ASiC-S with META-INF/signatures.xml over its one data file."""
    from epackage.xades import build_signature

    content = "<pismo>treść</pismo>".encode()
    signature = build_signature({"pismo.xml": content}, signer_of(citizen), clock.now())
    package = raw_zip(
        [
            ("mimetype", MIMETYPE_S.encode(), zipfile.ZIP_STORED),
            ("pismo.xml", content, zipfile.ZIP_DEFLATED),
            ("META-INF/signatures.xml", signature, zipfile.ZIP_DEFLATED),
        ]
    )
    report = verify(package, "application/vnd.etsi.asic-s+zip")
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    assert report.package.container == "ASiC-S"
    assert report.package.files[0].valid_signatures == (report.signatures[0].id,)


def test_signature_referencing_a_missing_file_is_reported(verify, citizen, clock) -> None:
    from epackage.xades import build_signature

    signature = build_signature({"a.xml": b"<a/>", "gone.xml": b"<g/>"}, signer_of(citizen), clock.now())
    package = raw_zip(
        [
            ("mimetype", MIMETYPE_E.encode(), zipfile.ZIP_STORED),
            ("a.xml", b"<a/>", zipfile.ZIP_DEFLATED),
            ("META-INF/signatures0.xml", signature, zipfile.ZIP_DEFLATED),
        ]
    )
    report = verify(package, ASIC_E)
    assert report.indication == "TOTAL_FAILED"
    assert any("gone.xml" in p for p in report.package.problems)
