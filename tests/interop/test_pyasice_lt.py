"""XAdES B-LT made by an independent producer: pyasice finalises an ASiC-E signature as LT-TS
against our own TSA and OCSP responder (real HTTP servers on loopback), embedding the OCSP
response in xades:RevocationValues and the SignatureTimeStamp; the verifier uses that embedded
data (EN 319 132-1 §5.4, EN 319 102-1 §5.5)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from config.app import create_app
from tests.interop.test_pyasice import ASIC_E, FORMS, run
from tests.tsa.server import serve
from verifier.detect import parse_submission
from verifier.service import VerificationService
from verifier.settings import VerifierSettings

pytestmark = pytest.mark.interop


def test_pyasice_lt_signature_validates_from_its_embedded_ocsp(settings, db, key_store, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ca.settings import CASettings, OCSPSignerSettings
    from tests.pki import build_pki
    from tests.verifier.helpers import issue_citizen

    # pyasice checks OCSP responses signed with RSA only (sha256_rsa / sha1_rsa).
    vpki = build_pki(clock, key_store, CASettings(ocsp_signer=OCSPSignerSettings(algorithm="rsa-2048")))
    clock.advance(days=10)
    citizen = issue_citizen(vpki, tmp_path / "citizen")
    settings = replace(settings, ocsp=replace(settings.ocsp, refresh_seconds=0.0))
    app = create_app(settings, ["ocsp", "tsa"], clock=clock, key_store=key_store, database=db)
    for name, content in FORMS.items():
        (tmp_path / name).write_bytes(content)
    issuer = tmp_path / "issuer.pem"
    issuer.write_bytes(vpki.cert("citizens").public_bytes(Encoding.PEM))
    out = tmp_path / "lt.asice"
    with serve(app) as base:
        run(
            "make-lt",
            str(out),
            str(citizen.key_path),
            str(citizen.cert_path),
            str(issuer),
            f"{base}/ocsp",
            f"{base}/tsa",
            *(str(tmp_path / n) for n in FORMS),
        )
    serial = format(citizen.cert.serial_number, "X")
    online = VerificationService(VerifierSettings(), clock, lambda: key_store)
    report = online.verify(parse_submission(ASIC_E, out.read_bytes()))
    sig = report.signatures[0]
    assert (report.indication, sig.format, sig.level) == ("TOTAL_PASSED", "XAdES", "B-LT"), report.to_dict()
    assert [t.kind for t in sig.timestamps] == ["signature"] and sig.timestamps[0].indication == "TOTAL_PASSED"
    # The OCSP response pyasice embedded (its BDOC nonce echoed by our responder) is evidence.
    embedded = [e for e in sig.revocation if e.source == "document" and e.certificate_serial == serial]
    assert [e.status for e in embedded] == ["good"]
    # Offline, nothing but the document: the signer's status comes from the embedded response;
    # pyasice embeds none for the issuing CA, so its path cannot be completed → INDETERMINATE.
    offline = VerificationService(VerifierSettings(revocation_mode="offline"), clock, lambda: key_store)
    alone = offline.verify(parse_submission(ASIC_E, out.read_bytes())).signatures[0]
    assert alone.indication == "INDETERMINATE" and alone.sub_indication != "REVOKED_NO_POE"
    assert [(e.source, e.certificate_serial, e.status) for e in alone.revocation] == [("document", serial, "good")]
