"""XAdES counter-signatures (ETSI EN 319 132-1 §5.2.7.2).

A ``xades:CounterSignature`` in the UnsignedSignatureProperties holds a ``ds:Signature`` with a
``ds:Reference`` of Type ``http://uri.etsi.org/01903#CountersignedSignature`` pointing at the
``ds:SignatureValue`` of the signature it counters. It is checked for that reference (exactly one
element with that Id in the document: anything else is how wrapping presents itself), its
cryptography is verified with signxml like a main signature's (the reference digest over the
countered SignatureValue: tampering with that value is a HASH_FAILURE of the counter-signature),
and its certificate path is validated like a main signer's (:func:`verifier.counter.with_path`).
"""

from __future__ import annotations

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree  # type: ignore[import-untyped]

from verifier.archive import ValidationData
from verifier.counter import CounterBase, Walk, failed, walk, with_path
from verifier.detect import Part
from verifier.environment import VerificationEnvironment
from verifier.report import CounterSignatureReport, Indication, SubIndication, Verdict
from verifier.xades_parsing import (
    NS,
    algorithm_of,
    candidate_certificates,
    certificate_values,
    claimed_time,
    embedded_revocation,
    ids,
    is_xades,
)
from verifier.xades_references import algorithm_check, crypto_verify

COUNTERSIGNED_TYPE = "http://uri.etsi.org/01903#CountersignedSignature"
_USP = "ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/xades:UnsignedSignatureProperties/"


def counter_signature_elements(signature: etree._Element) -> list[etree._Element | None]:
    """The ds:Signature of each xades:CounterSignature of ``signature`` (None: one without)."""
    found: list[etree._Element | None] = []
    for wrapper in signature.iterfind(_USP + "xades:CounterSignature", NS):
        nested = wrapper.findall("ds:Signature", NS)
        found.append(nested[0] if len(nested) == 1 else None)
    return found


async def xades_counter_signatures(
    root: etree._Element,
    signature: etree._Element,
    signature_id: str,
    env: VerificationEnvironment,
    parts: list[Part] | None = None,
) -> tuple[CounterSignatureReport, ...]:
    """Every counter-signature of ``signature`` (nested ones too), validated; ``parts`` are the
    detached files a counter-signature may reference besides the countered SignatureValue."""
    index = ids(root)

    async def judge(
        child: etree._Element, parent: etree._Element, child_id: str, parent_id: str
    ) -> tuple[CounterSignatureReport, etree._Element | None]:
        fmt = "XAdES" if is_xades(child) else "XML-DSig"
        base = CounterBase(
            id=child_id,
            counters=parent_id,
            format=fmt,
            claimed_signing_time=claimed_time(child),
            signature_algorithm=algorithm_of(child, "ds:SignedInfo/ds:SignatureMethod"),
            digest_algorithm=algorithm_of(child, "ds:SignedInfo/ds:Reference/ds:DigestMethod"),
        )
        return await _judge(root, child, parent, base, (index, parts or []), env)

    return await walk(signature, signature_id, Walk("XAdES", counter_signature_elements, judge))


async def _judge(
    root: etree._Element,
    counter: etree._Element,
    parent: etree._Element,
    base: CounterBase,
    document: tuple[dict[str, list[etree._Element]], list[Part]],
    env: VerificationEnvironment,
) -> tuple[CounterSignatureReport, etree._Element | None]:
    index, parts = document
    problem = _target_problem(counter, parent, index)
    if problem is not None:
        return failed(base, problem), counter
    candidates = candidate_certificates(counter)
    path = root.getroottree().getelementpath(counter)
    cert, verdict = crypto_verify(root, counter, candidates, parts, env.moment, is_xades(counter), target_path=path)
    verdict = algorithm_check(counter) or verdict
    signer = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)) if cert is not None else None
    if verdict.indication is not Indication.TOTAL_PASSED or signer is None:
        return failed(base, verdict, signer), counter
    certs = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in candidates]
    certs += certificate_values(counter) + certificate_values(parent)
    crls, ocsps = embedded_revocation(counter)
    parent_crls, parent_ocsps = embedded_revocation(parent)
    data = ValidationData(certs, crls + parent_crls, ocsps + parent_ocsps)
    return await with_path(base, signer, data, env), counter


def _target_problem(
    counter: etree._Element, parent: etree._Element, index: dict[str, list[etree._Element]]
) -> Verdict | None:
    """EN 319 132-1 §5.2.7.2: a CountersignedSignature reference to the countered SignatureValue,
    which is the only element of the document with that Id."""
    value = parent.find("ds:SignatureValue", NS)
    value_id = value.get("Id") if value is not None else None
    for reference in counter.iterfind("ds:SignedInfo/ds:Reference", NS):
        if reference.get("Type") != COUNTERSIGNED_TYPE:
            continue
        uri = reference.get("URI") or ""
        targets = index.get(uri[1:], []) if uri.startswith("#") else []
        if value_id is not None and uri == f"#{value_id}" and len(targets) == 1 and targets[0] is value:
            return None
    return Verdict(
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
        "the counter-signature has no CountersignedSignature reference to the SignatureValue it counters "
        "(EN 319 132-1 §5.2.7.2)",
    )
