"""UPO (pos:UPP) and UPD receipts: CRD shape, seal (XAdES B-T by the receipt-seal key with our
TSA), durable record + audit before the answer, idempotency, renderings, verification."""

from __future__ import annotations

import base64
import hashlib

import pytest
from lxml import etree

from core.audit import AuditRecord, verify_chain
from epackage import pack_and_sign, sign_package
from epackage.signer import Signer
from receipts.errors import DeliverySignatureRejectedError, IdempotencyConflictError, SealUnavailableError
from receipts.models import Receipt
from tests.receipts.conftest import OTHER_PORTAL, PACKAGE, PORTAL, upp_body
from tests.verifier.helpers import issue_citizen
from verifier.detect import parse_submission
from verifier.service import VerificationService
from verifier.settings import VerifierSettings

POS = "http://crd.gov.pl/xml/schematy/UPO/2008/05/09/"
NS = {"pos": POS, "ds": "http://www.w3.org/2000/09/xmldsig#", "xades": "http://uri.etsi.org/01903/v1.3.2#"}


def test_upp_has_the_crd_shape_and_the_package_digest(receipt_service, clock) -> None:
    """REFERENCE: pos:Dokument/pos:UPP, SHA-256 of the delivered bytes in InformacjaUzupelniajaca."""
    issued = receipt_service.issue_submission(upp_body(), principal=PORTAL, idempotency_key="k1")
    root = etree.fromstring(bytes(issued.receipt.xml))
    assert root.tag == f"{{{POS}}}Dokument"
    upp = root.find("pos:UPP", NS)
    assert upp.findtext("pos:IdentyfikatorPoswiadczenia", namespaces=NS) == issued.receipt.number
    assert issued.receipt.number.startswith(f"UPP-{clock.now():%Y}-")
    assert upp.findtext("pos:Adresat/pos:Nazwa", namespaces=NS) == "Urząd Gminy Przykładowo"
    ident = upp.find("pos:Adresat/pos:IdentyfikatorPodmiotu", NS)
    assert (ident.text, ident.get("TypIdentyfikatora")) == ("192598184", "REGON")
    assert upp.findtext("pos:DataDoreczenia", namespaces=NS) == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert upp.findtext("pos:IdentyfikatorDokumentu", namespaces=NS) == "56725"
    info = {n.get("TypInformacjiUzupelniajacej"): n.text for n in upp.iterfind("pos:InformacjaUzupelniajaca", NS)}
    assert base64.b64decode(info["SkrotDokumentuSHA256"]) == hashlib.sha256(PACKAGE).digest()
    assert info["TematWniosku"] == "Wniosek o wydanie zaświadczenia"
    signature = root.find("ds:Signature", NS)
    assert signature is not None and root.index(signature) == len(root) - 1  # enveloped, last
    assert signature.find(".//xades:SignatureTimeStamp", NS) is not None


def test_receipt_is_stored_and_audited_before_it_is_returned(receipt_service) -> None:
    issued = receipt_service.issue_submission(upp_body(), principal=PORTAL, idempotency_key="k2")
    stored = Receipt.get(Receipt.public_id == issued.receipt.public_id)
    assert bytes(stored.xml) == bytes(issued.receipt.xml)
    record = AuditRecord.get(AuditRecord.object_id == issued.receipt.public_id)
    assert record.action == "receipts.upp.issue" and record.details["number"] == issued.receipt.number
    assert "Jan Testowy" not in str(record.details)
    assert verify_chain().ok


def test_idempotency_key_replays_and_conflicts(receipt_service) -> None:
    first = receipt_service.issue_submission(upp_body(), principal=PORTAL, idempotency_key="same")
    again = receipt_service.issue_submission(upp_body(), principal=PORTAL, idempotency_key="same")
    assert again.replayed and again.receipt.number == first.receipt.number
    assert Receipt.select().count() == 1
    with pytest.raises(IdempotencyConflictError):
        receipt_service.issue_submission(upp_body(subject="inny"), principal=PORTAL, idempotency_key="same")
    other = receipt_service.issue_submission(upp_body(), principal=OTHER_PORTAL, idempotency_key="same")
    assert not other.replayed and other.receipt.number != first.receipt.number


def test_numbers_differ_and_a_collision_draws_again(receipt_service, monkeypatch) -> None:
    """Unique across hosts by constraint: a clash (forced here) is sealed again under a new number."""
    import receipts.service as module

    first = receipt_service.issue_submission(upp_body(), principal=PORTAL, idempotency_key=None)
    numbers = iter([first.receipt.number, "UPP-2026-0000-0000-0001"])
    monkeypatch.setattr(module, "new_number", lambda kind, at: next(numbers))
    second = receipt_service.issue_submission(upp_body(), principal=PORTAL, idempotency_key=None)
    assert second.receipt.number == "UPP-2026-0000-0000-0001"
    assert Receipt.select().count() == 2


def test_inline_package_is_digested(receipt_service) -> None:
    body = upp_body(package=base64.b64encode(PACKAGE).decode())
    del body["package_sha256"], body["package_size"]
    issued = receipt_service.issue_submission(body, principal=PORTAL, idempotency_key=None)
    assert issued.receipt.package_sha256 == hashlib.sha256(PACKAGE).hexdigest()
    assert issued.receipt.package_size == len(PACKAGE)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipient": None}, "recipient"),
        ({"recipient": {"name": ""}}, "recipient/name"),
        ({"submission_number": 5}, "submission_number"),
        ({"package_sha256": "zz"}, "package_sha256"),
        ({"recipient": {"name": "U", "identifier": "1", "identifier_type": "XYZ"}}, "recipient/identifier_type"),
        ({"package": "not base64!"}, "package"),
        ({"subject": "a\x00b"}, "subject"),
    ],
    ids=["no-recipient", "empty-name", "number-type", "bad-digest", "id-type", "bad-base64", "control-char"],
)
def test_bad_requests_name_the_field_and_store_nothing(receipt_service, change, field) -> None:
    from core.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        receipt_service.issue_submission(upp_body(**change), principal=PORTAL, idempotency_key=None)
    assert field in [e.field for e in caught.value.errors]
    assert Receipt.select().count() == 0


def test_no_seal_means_503_and_nothing_stored(receipt_service) -> None:
    from ca.models import Authority

    Authority.delete().where(Authority.name == "receipt-seal").execute()
    with pytest.raises(SealUnavailableError):
        receipt_service.issue_submission(upp_body(), principal=PORTAL, idempotency_key=None)
    assert Receipt.select().count() == 0


def test_verifier_validates_our_upo_and_reports_its_fields(receipt_service, clock, key_store) -> None:
    issued = receipt_service.issue_submission(upp_body(), principal=PORTAL, idempotency_key=None)
    verifier = VerificationService(VerifierSettings(), clock, lambda: key_store)
    report = verifier.verify(parse_submission("application/xml", bytes(issued.receipt.xml)))
    assert report.indication == "TOTAL_PASSED", report.to_dict()
    (sig,) = report.signatures
    assert sig.level == "B-T" and sig.timestamps[0].indication == "TOTAL_PASSED"
    assert sig.signer.name == "SEKAP Trust Receipt Seal"
    receipt = report.receipt
    assert receipt.kind == "UPP" and receipt.number == issued.receipt.number
    assert receipt.document_sha256 == hashlib.sha256(PACKAGE).hexdigest()
    assert receipt.recipient.name == "Urząd Gminy Przykładowo" and receipt.document_id == "56725"


def test_tampered_upo_fails(receipt_service, clock, key_store) -> None:
    issued = receipt_service.issue_submission(upp_body(), principal=PORTAL, idempotency_key=None)
    forged = bytes(issued.receipt.xml).replace(b"56725", b"99999")
    verifier = VerificationService(VerifierSettings(), clock, lambda: key_store)
    report = verifier.verify(parse_submission("application/xml", forged))
    assert (report.indication, report.sub_indication) == ("TOTAL_FAILED", "HASH_FAILURE")
    assert report.receipt.document_id == "99999"  # fields are reported as stated, beside the verdict


def test_verifier_reports_the_shared_unsigned_upp_sample_fields(verify_sample) -> None:
    report = verify_sample
    assert report.receipt.kind == "UPP" and report.receipt.number == "UPP-2010-000123"
    assert report.receipt.document_sha256 is not None
    assert report.indication == "TOTAL_FAILED"  # no signature at all


@pytest.fixture
def verify_sample(vpki, clock, key_store):  # type: ignore[no-untyped-def]
    from pathlib import Path

    data = (Path(__file__).parent / "vectors" / "upp-example.xml").read_bytes()
    verifier = VerificationService(VerifierSettings(), clock, lambda: key_store)
    return verifier.verify(parse_submission("application/xml", data))


def _office_package(vpki, clock, tmp_path):  # type: ignore[no-untyped-def]
    """A letter the office sends, sealed by the office (here: a second citizen certificate)."""
    office = issue_citizen(vpki, tmp_path / "office", name="Urząd Gminy", semantics_id="VATPL-5260300517")
    return pack_and_sign({"pismo.xml": b"<pismo>Decyzja</pismo>"}, Signer(office.key, office.cert), at=clock.now())


def test_upd_after_the_citizen_signs_the_office_package(receipt_service, citizen, vpki, clock, tmp_path) -> None:
    signed = sign_package(_office_package(vpki, clock, tmp_path), Signer(citizen.key, citizen.cert), at=clock.now())
    body = {
        "signed_package": base64.b64encode(signed).decode(),
        "office": {"name": "Urząd Gminy Przykładowo", "identifier": "192598184", "identifier_type": "REGON"},
        "recipient": {"name": "Jan Testowy"},
        "letter_id": "ZP.6220.1.2026",
        "subject": "Decyzja",
    }
    issued = receipt_service.confirm_delivery(body, principal=PORTAL, idempotency_key="upd-1")
    root = etree.fromstring(bytes(issued.receipt.xml))
    upd = root.find("pos:UPD", NS)
    assert upd is not None and issued.receipt.number.startswith("UPD-")
    info = {n.get("TypInformacjiUzupelniajacej"): n.text for n in upd.iterfind("pos:InformacjaUzupelniajaca", NS)}
    assert "Jan Testowy" in info["PodpisOdbiorcy"]
    assert AuditRecord.get(AuditRecord.object_id == issued.receipt.public_id).action == "receipts.upd.issue"


def test_upd_refused_when_the_citizen_signature_does_not_validate(receipt_service, vpki, clock, tmp_path) -> None:
    stranger = issue_citizen(vpki, tmp_path / "stranger", foreign=True)
    signed = sign_package(_office_package(vpki, clock, tmp_path), Signer(stranger.key, stranger.cert), at=clock.now())
    body = {
        "signed_package": base64.b64encode(signed).decode(),
        "office": {"name": "Urząd"},
        "recipient": {"name": "Ktoś"},
        "letter_id": "1",
        "subject": "x",
    }
    with pytest.raises(DeliverySignatureRejectedError) as caught:
        receipt_service.confirm_delivery(body, principal=PORTAL, idempotency_key=None)
    assert caught.value.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert Receipt.select().count() == 0


def test_concurrent_receipts_share_commits_and_all_are_stored(receipt_service) -> None:
    """Group commit: every answered receipt is in the table with its audit record, chain intact."""
    from concurrent.futures import ThreadPoolExecutor

    def issue(i: int) -> str:
        body = upp_body(submission_number=str(i))
        return receipt_service.issue_submission(body, principal=PORTAL, idempotency_key=f"c-{i}").receipt.number

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = list(pool.map(issue, range(24)))
    assert len(set(numbers)) == 24
    assert Receipt.select().where(Receipt.number.in_(numbers)).count() == 24
    assert AuditRecord.select().where(AuditRecord.action == "receipts.upp.issue").count() == 24
    assert verify_chain().ok


def test_group_writer_isolates_a_failing_item() -> None:
    """A unique-constraint clash in a batch fails only its own item (retried one by one)."""
    import threading

    import peewee as pw

    from receipts.writer import GroupWriter, _commit, _Item

    calls: list[str] = []

    def ok() -> str:
        calls.append("ok")
        return "fine"

    def clash() -> str:
        raise pw.IntegrityError("UNIQUE constraint failed")

    items = [_Item(ok), _Item(clash), _Item(ok)]
    _commit(items)
    assert [i.result for i in items] == ["fine", None, "fine"]
    assert isinstance(items[1].error, pw.IntegrityError)
    assert GroupWriter().write(lambda: threading.current_thread().name)
