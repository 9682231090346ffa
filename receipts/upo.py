"""The receipt document: CRD ``pos:Dokument`` with ``pos:UPP`` (submission receipt, UPO) or
``pos:UPD`` (delivery confirmation), namespace http://crd.gov.pl/xml/schematy/UPO/2008/05/09/.

Pure: fields in, an unsigned lxml tree out (the seal is added by :mod:`receipts.seal`), and back.
Times are UTC with ``Z``; the Polish rendering converts them for a reader.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from lxml import etree  # type: ignore[import-untyped]

from core.clock import ensure_utc

POS = "http://crd.gov.pl/xml/schematy/UPO/2008/05/09/"
KINDS = ("UPP", "UPD")
# InformacjaUzupelniajaca types this service writes (the sample's SkrotDokumentuSHA256 first).
INFO_SHA256 = "SkrotDokumentuSHA256"
INFO_SIZE = "RozmiarDokumentu"
INFO_SUBJECT = "TematWniosku"
INFO_NUMBER = "NumerWniosku"
INFO_SIGNER = "PodpisOdbiorcy"
INFO_PLATFORM = "Wystawca"


@dataclass(frozen=True)
class Party:
    """Adresat / Nadawca: a name, optionally an address and an identifier with its type."""

    name: str
    address: str | None = None
    identifier: str | None = None
    identifier_type: str | None = None


@dataclass(frozen=True)
class ReceiptContent:
    kind: str
    number: str
    recipient: Party
    sender: Party | None
    delivered_at: datetime
    generated_at: datetime
    document_id: str
    subject: str
    package_sha256: bytes
    package_size: int | None = None
    platform: str | None = None
    recipient_signer: str | None = None  # UPD: who signed the confirmation (name, certificate)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if len(self.package_sha256) != 32:
            raise ValueError("package_sha256 must be 32 octets")
        ensure_utc(self.delivered_at)
        ensure_utc(self.generated_at)


def new_number(kind: str, at: datetime) -> str:
    """``UPP-2026-4821-0937-1156``: the year and 12 random digits (~40 bits). Hosts never
    coordinate; the table's unique constraint is the last word and a clash draws again."""
    digits = f"{secrets.randbelow(10**12):012d}"
    return f"{kind}-{at:%Y}-{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def _time(at: datetime) -> str:
    return ensure_utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(parent: etree._Element, tag: str, value: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{POS}}}{tag}", **attributes)
    element.text = value
    return element


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    element = etree.SubElement(parent, f"{{{POS}}}{tag}")
    _text(element, "Nazwa", party.name)
    if party.address:
        _text(element, "Adres", party.address)
    if party.identifier:
        _text(
            element,
            "IdentyfikatorPodmiotu",
            party.identifier,
            TypIdentyfikatora=party.identifier_type or "ID",
        )


def build(content: ReceiptContent) -> etree._Element:
    """The unsigned ``pos:Dokument`` (element order as in the CRD sample)."""
    root = etree.Element(f"{{{POS}}}Dokument", nsmap={"pos": POS})
    body = etree.SubElement(root, f"{{{POS}}}{content.kind}")
    _text(body, "IdentyfikatorPoswiadczenia", content.number)
    _party(body, "Adresat", content.recipient)
    if content.sender is not None:
        _party(body, "Nadawca", content.sender)
    _text(body, "DataDoreczenia", _time(content.delivered_at))
    _text(body, "DataWytworzeniaPoswiadczenia", _time(content.generated_at))
    _text(body, "IdentyfikatorDokumentu", content.document_id)
    info = {
        INFO_SHA256: base64.b64encode(content.package_sha256).decode("ascii"),
        INFO_NUMBER: content.document_id,
        INFO_SUBJECT: content.subject,
    }
    if content.package_size is not None:
        info[INFO_SIZE] = str(content.package_size)
    if content.recipient_signer:
        info[INFO_SIGNER] = content.recipient_signer
    if content.platform:
        info[INFO_PLATFORM] = content.platform
    for kind, value in info.items():
        _text(body, "InformacjaUzupelniajaca", value, TypInformacjiUzupelniajacej=kind)
    return root
