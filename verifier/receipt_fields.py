"""What a receipt states: the fields of a CRD ``pos:Dokument`` (UPP — submission receipt, UPO —
or UPD — delivery confirmation), reported beside the signature's indication.

Read from the same hardened tree the signature was verified on; the report names the fields as
the document states them, and the indication says whether the seal over them holds.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree  # type: ignore[import-untyped]

from core.clock import ensure_utc

POS = "http://crd.gov.pl/xml/schematy/UPO/2008/05/09/"
_NS = {"pos": POS}
SHA256_INFO = "SkrotDokumentuSHA256"


@dataclass(frozen=True)
class PartyInfo:
    name: str | None
    address: str | None = None
    identifier: str | None = None
    identifier_type: str | None = None


@dataclass(frozen=True)
class InformationEntry:
    type: str | None
    value: str


@dataclass(frozen=True)
class ReceiptInfo:
    """``kind``: ``UPP`` or ``UPD``; ``document_sha256`` (hex) from the SkrotDokumentuSHA256 entry."""

    kind: str
    number: str | None
    recipient: PartyInfo | None
    sender: PartyInfo | None
    delivered_at: datetime | None
    generated_at: datetime | None
    document_id: str | None
    document_sha256: str | None
    information: tuple[InformationEntry, ...] = ()


def _text(parent: etree._Element, path: str) -> str | None:
    node = parent.find(path, _NS)
    return node.text.strip() if node is not None and node.text else None


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # CRD receipts without a zone (as in older UPOs) are read as UTC, the zone this service writes.
    return ensure_utc(parsed) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _party(parent: etree._Element, tag: str) -> PartyInfo | None:
    node = parent.find(f"pos:{tag}", _NS)
    if node is None:
        return None
    identifier = node.find("pos:IdentyfikatorPodmiotu", _NS)
    return PartyInfo(
        name=_text(node, "pos:Nazwa"),
        address=_text(node, "pos:Adres"),
        identifier=identifier.text.strip() if identifier is not None and identifier.text else None,
        identifier_type=identifier.get("TypIdentyfikatora") if identifier is not None else None,
    )


def read_receipt(root: etree._Element) -> ReceiptInfo | None:
    """The receipt fields of ``root`` when it is a ``pos:Dokument`` with UPP or UPD, else None."""
    if root.tag != f"{{{POS}}}Dokument":
        return None
    body = root.find("pos:UPP", _NS)
    if body is None:
        body = root.find("pos:UPD", _NS)
    if body is None:
        return None
    information = tuple(
        InformationEntry(node.get("TypInformacjiUzupelniajacej"), (node.text or "").strip())
        for node in body.iterfind("pos:InformacjaUzupelniajaca", _NS)
    )
    digest = None
    for entry in information:
        if entry.type == SHA256_INFO:
            try:
                raw = base64.b64decode(entry.value, validate=True)
                digest = raw.hex() if len(raw) == 32 else None
            except (binascii.Error, ValueError):
                digest = None
    return ReceiptInfo(
        kind=str(etree.QName(body).localname),
        number=_text(body, "pos:IdentyfikatorPoswiadczenia"),
        recipient=_party(body, "Adresat"),
        sender=_party(body, "Nadawca"),
        delivered_at=_time(_text(body, "pos:DataDoreczenia")),
        generated_at=_time(_text(body, "pos:DataWytworzeniaPoswiadczenia")),
        document_id=_text(body, "pos:IdentyfikatorDokumentu"),
        document_sha256=digest,
        information=information,
    )
