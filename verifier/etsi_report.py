"""The validation report in the ETSI TS 119 102-2 (v1.2.1) XML format.

One ``vr:SignatureValidationReport`` per signature: identifier, validation time and best
signature time, the signer's certificate, and the main and sub-indication as the URIs of
TS 119 102-2 §5.1 (``urn:etsi:019102:mainindication:…``, ``urn:etsi:019102:subindication:…``).
Certificates of the chains are validation objects (``vr:SignatureValidationObjects``) identified by
their SHA-256 digest; so is every timestamp (signature, content, archive, document), with its own
status and, when it validated, its proof of existence, and the signature's
``vr:SignatureAttributes`` point at them. Each counter-signature gets a
``vr:SignatureValidationReport`` of its own (its ``DAIdentifier`` is its id in the JSON report),
and the signature it counters lists it as a ``vr:CounterSignature`` attribute (TS 119 102-2
§A.11) pointing at that report's ``SignatureIdentifier`` (a nested counter-signature is listed
by the counter-signature it counters). The schema is kept in ``verifier/schemas`` (see its README
for the sources).
"""

from __future__ import annotations

import base64
from datetime import datetime
from importlib import resources
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from verifier.report import (
    CertificateInfo,
    CounterSignatureReport,
    Indication,
    SignatureReport,
    TimestampInfo,
    ValidationReport,
)

VR = "http://uri.etsi.org/19102/v1.2.1#"
DS = "http://www.w3.org/2000/09/xmldsig#"
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
_MAIN = {
    Indication.TOTAL_PASSED: "urn:etsi:019102:mainindication:total-passed",
    Indication.TOTAL_FAILED: "urn:etsi:019102:mainindication:total-failed",
    Indication.INDETERMINATE: "urn:etsi:019102:mainindication:indeterminate",
}
_SUB = "urn:etsi:019102:subindication:"
_CERTIFICATE = "urn:etsi:019102:validationObject:certificate"
_TIMESTAMP = "urn:etsi:019102:validationObject:timestamp"
# TS 119 102-2 §A: the signature attribute each kind of timestamp is reported under.
_TIMESTAMP_ATTRIBUTE = {
    "signature": "SignatureTimeStamp",
    "content": "AllDataObjectsTimeStamp",
    "archive": "ArchiveTimeStamp",
    "document": "DocTimeStamp",
}
_POE_VALIDATION = "urn:etsi:019102:poetype:validation"
_POE_PROVIDED = "urn:etsi:019102:poetype:provided"
XML_REPORT_MEDIA_TYPE = "application/xml"


def _el(parent: Any, name: str, text: str | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, f"{{{VR}}}{name}", attributes)
    if text is not None:
        element.text = text
    return element


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _certificate_id(cert: CertificateInfo | None, fingerprint: str | None = None) -> str:
    return "C-" + (fingerprint or (cert.fingerprint_sha256 if cert else "")).replace(":", "").upper()


def to_etsi_xml(report: ValidationReport) -> bytes:
    """The report as a TS 119 102-2 ``vr:ValidationReport`` document (UTF-8)."""
    root = etree.Element(f"{{{VR}}}ValidationReport", nsmap={"vr": VR, "ds": DS})
    objects: dict[str, CertificateInfo] = {}
    stamps: dict[str, tuple[SignatureReport, TimestampInfo]] = {}
    for index, signature in enumerate(report.signatures):
        for cert in signature.certificate_chain:
            objects.setdefault(_certificate_id(cert), cert)
        for number, stamp in enumerate(signature.timestamps):
            stamps[_timestamp_id(index, number)] = (signature, stamp)
        _signature_report(root, signature, index, report.validation_time)
        for number, counter in enumerate(signature.counter_signatures):
            for cert in counter.certificate_chain:
                objects.setdefault(_certificate_id(cert), cert)
            _counter_report(root, signature, index, number, report.validation_time)
    if objects or stamps:
        listing = _el(root, "SignatureValidationObjects")
        for object_id, cert in objects.items():
            _validation_object(listing, object_id, cert)
        for object_id, (signature, stamp) in stamps.items():
            _timestamp_object(listing, object_id, signature, stamp)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _timestamp_id(signature_index: int, number: int) -> str:
    return f"T-{signature_index}-{number}"


def _counter_id(signature_index: int, number: int) -> str:
    return f"S-{signature_index}-C-{number}"


def _signature_attributes(node: Any, signature: SignatureReport, index: int) -> None:
    """``vr:SignatureAttributes``: each timestamp under its attribute, pointing at its object;
    each counter-signature (TS 119 102-2 §A.11), pointing at its own report's identifier."""
    dated = [(n, t) for n, t in enumerate(signature.timestamps) if t.time is not None]
    countered = _countered_by(signature, signature.id)
    if not dated and not countered:
        return
    attributes = _el(node, "SignatureAttributes")
    for number, stamp in dated:
        item = _el(attributes, _TIMESTAMP_ATTRIBUTE.get(stamp.kind, "SignatureTimeStamp"), Signed="false")
        _el(item, "AttributeObject", VOReference=_timestamp_id(index, number))
        _el(item, "TimeStampValue", _time(stamp.time))  # type: ignore[arg-type]
    _counter_attributes(attributes, index, countered)


def _countered_by(signature: SignatureReport, countered_id: str) -> list[int]:
    """Positions of the counter-signatures (of ``signature``'s list) over ``countered_id``."""
    return [n for n, c in enumerate(signature.counter_signatures) if c.counters == countered_id]


def _counter_attributes(attributes: Any, index: int, numbers: list[int]) -> None:
    for number in numbers:
        item = _el(attributes, "CounterSignature", Signed="false")
        _el(item, "AttributeObject", VOReference=_counter_id(index, number))
        _el(item, "CounterSignature")


def _counter_report(root: Any, signature: SignatureReport, index: int, number: int, validation_time: datetime) -> None:
    counter: CounterSignatureReport = signature.counter_signatures[number]
    node = _report_head(root, _counter_id(index, number), counter.id, validation_time, None)
    nested = _countered_by(signature, counter.id)
    if nested:
        _counter_attributes(_el(node, "SignatureAttributes"), index, nested)
    _signer_information(node, counter.signer.name if counter.signer else None, counter.certificate_chain)
    _status(node, counter.indication, counter.sub_indication)


def _timestamp_object(listing: Any, object_id: str, signature: SignatureReport, stamp: TimestampInfo) -> None:
    """A timestamp as a validation object (TS 119 102-2 §4.4): the token's SHA-256 when known,
    its proof of existence when it validated, and its own validation status."""
    item = _el(listing, "ValidationObject", id=object_id)
    _el(item, "ObjectType", _TIMESTAMP)
    representation = _el(item, "ValidationObjectRepresentation")
    if stamp.token_sha256:
        _digest(representation, stamp.token_sha256)
    else:
        _el(representation, "URI", f"urn:sekap-trust:timestamp:{signature.id}:{stamp.kind}:{object_id}")
    if stamp.indication is Indication.TOTAL_PASSED and stamp.time is not None:
        poe = _el(item, "POE")
        _el(poe, "POETime", _time(stamp.time))
        _el(poe, "TypeOfProof", _POE_VALIDATION)
    status = _el(_el(item, "ValidationReport"), "SignatureValidationStatus")
    _el(status, "MainIndication", _MAIN[stamp.indication])
    if stamp.sub_indication is not None:
        _el(status, "SubIndication", _SUB + stamp.sub_indication.value)


def _signature_report(root: Any, signature: SignatureReport, index: int, validation_time: datetime) -> None:
    stamped = [t.time for t in signature.timestamps if t.indication is Indication.TOTAL_PASSED and t.time]
    node = _report_head(root, f"S-{index}", signature.id, validation_time, min(stamped) if stamped else None)
    _signature_attributes(node, signature, index)
    if signature.signer is not None:
        _signer_information(node, signature.signer.name, signature.certificate_chain)
    _status(node, signature.indication, signature.sub_indication)


def _report_head(
    root: Any, identifier: str, da_identifier: str, validation_time: datetime, poe: datetime | None
) -> Any:
    """A ``vr:SignatureValidationReport`` with its identifier and times: the best signature time
    is ``poe`` (a validated timestamp's time) when given, else the validation time."""
    node = _el(root, "SignatureValidationReport")
    ident = _el(node, "SignatureIdentifier", id=identifier)
    _el(ident, "HashOnly", "false")
    _el(ident, "DocHashOnly", "false")
    _el(ident, "DAIdentifier", da_identifier)
    times = _el(node, "ValidationTimeInfo")
    _el(times, "ValidationTime", _time(validation_time))
    best = _el(times, "BestSignatureTime")
    _el(best, "POETime", _time(poe or validation_time))
    _el(best, "TypeOfProof", _POE_PROVIDED if poe else _POE_VALIDATION)
    return node


def _signer_information(node: Any, name: str | None, chain: tuple[CertificateInfo, ...]) -> None:
    if not chain:
        return
    signer = _el(node, "SignerInformation")
    _el(signer, "SignerCertificate", VOReference=_certificate_id(chain[0]))
    if name:
        _el(signer, "Signer", name)


def _status(node: Any, indication: Indication, sub_indication: Any) -> None:
    status = _el(node, "SignatureValidationStatus")
    _el(status, "MainIndication", _MAIN[indication])
    if sub_indication is not None:
        _el(status, "SubIndication", _SUB + sub_indication.value)


def _validation_object(listing: Any, object_id: str, cert: CertificateInfo) -> None:
    item = _el(listing, "ValidationObject", id=object_id)
    _el(item, "ObjectType", _CERTIFICATE)
    _digest(_el(item, "ValidationObjectRepresentation"), cert.fingerprint_sha256)


def _digest(representation: Any, sha256_hex: str) -> None:
    digest = _el(representation, "DigestAlgAndValue")
    method = etree.SubElement(digest, f"{{{DS}}}DigestMethod")
    method.set("Algorithm", _SHA256)
    value = etree.SubElement(digest, f"{{{DS}}}DigestValue")
    value.text = base64.b64encode(bytes.fromhex(sha256_hex.replace(":", ""))).decode("ascii")


class _LocalSchemas(etree.Resolver):  # type: ignore[misc]
    """Resolves the one remote import of the schemas (xml.xsd) to the copy kept here."""

    def resolve(self, url: str, public_id: str, context: Any) -> Any:
        if url.endswith("/xml.xsd"):
            return self.resolve_filename(str(_schema_dir() / "w3c" / "xml.xsd"), context)
        return None


def _schema_dir() -> Any:
    return resources.files("verifier").joinpath("schemas")


def schema() -> etree.XMLSchema:
    """The TS 119 102-2 schema, loaded from ``verifier/schemas`` without network access."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalSchemas())
    document = etree.parse(str(_schema_dir() / "etsi" / "ts_11910202.xsd"), parser)
    return etree.XMLSchema(document)
