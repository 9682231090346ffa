"""Polish renderings of a receipt for a person: HTML and PDF, with the fields the CC SEKAP UPO
shows ("Przesłane dokumenty doręczono do: … Data i czas doręczenia: … Numer wniosku: … Temat
wniosku: … wygenerowano i podpisano dnia … czasu uniwersalnego UTC").

The delivery time is shown in Europe/Warsaw (a person reads it); the generation time in UTC,
as the seed's wording says. Everything comes from the stored, sealed XML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF

from receipts.models import Receipt
from verifier.receipt_fields import ReceiptInfo, read_receipt
from verifier.xades import parse_xml

WARSAW = ZoneInfo("Europe/Warsaw")
TITLES = {"UPP": "Urzędowe Poświadczenie Odbioru", "UPD": "Urzędowe Poświadczenie Doręczenia"}


@dataclass(frozen=True)
class Line:
    label: str
    value: str


def _local(at: datetime | None) -> str:
    return at.astimezone(WARSAW).strftime("%Y-%m-%d godzina %H:%M:%S") if at else "—"


def lines(info: ReceiptInfo) -> tuple[str, list[Line], str]:
    """Title, labelled lines and the closing sentence (shared by HTML and PDF)."""
    title = TITLES.get(info.kind, "Poświadczenie")
    extra = {e.type: e.value for e in info.information}
    recipient = info.recipient.name if info.recipient and info.recipient.name else "—"
    sender = info.sender.name if info.sender and info.sender.name else None
    if info.kind == "UPD":
        result = [
            Line("Dokumenty doręczone przez", sender or "—"),
            Line("Odbiorca", recipient),
            Line("Data i czas odbioru", _local(info.delivered_at)),
            Line("Numer pisma", info.document_id or "—"),
            Line("Temat pisma", extra.get("TematWniosku", "—")),
            Line("Odbiór potwierdzono podpisem", extra.get("PodpisOdbiorcy", "—")),
        ]
    else:
        result = [
            Line("Przesłane dokumenty doręczono do", recipient),
            Line("Data i czas doręczenia", _local(info.delivered_at)),
            Line("Numer wniosku", info.document_id or "—"),
            Line("Temat wniosku", extra.get("TematWniosku", "—")),
        ]
        if sender:
            result.append(Line("Nadawca", sender))
    result.append(Line("Identyfikator poświadczenia", info.number or "—"))
    result.append(Line("Skrót SHA-256 dokumentu", info.document_sha256 or "—"))
    generated = info.generated_at
    closing = (
        f"{title} wygenerowano i podpisano dnia {generated:%Y-%m-%d} o godzinie {generated:%H:%M:%S} "
        "czasu uniwersalnego UTC."
        if generated
        else f"{title}: brak czasu wygenerowania."
    )
    return title, result, closing


def receipt_info(row: Receipt) -> ReceiptInfo:
    info = read_receipt(parse_xml(bytes(row.xml)))
    if info is None:
        raise ValueError("the stored receipt is not a pos:Dokument")
    return info


def to_html(row: Receipt, *, platform: str) -> str:
    title, items, closing = lines(receipt_info(row))
    rows = "\n".join(
        f"      <dt>{html.escape(item.label)}</dt>\n      <dd>{html.escape(item.value)}</dd>" for item in items
    )
    return f"""<!DOCTYPE html>
<html lang="pl">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(title)} {html.escape(row.number)}</title>
</head>
<body>
  <main>
    <h1>{html.escape(title)}</h1>
    <dl>
{rows}
    </dl>
    <p>{html.escape(closing)}</p>
    <p>Poświadczenie opatrzono pieczęcią elektroniczną {html.escape(platform)} i znacznikiem czasu
      (XAdES B-T). Dokument XML jest oryginałem; ten widok służy do odczytu.</p>
  </main>
</body>
</html>
"""


def to_pdf(row: Receipt, *, platform: str, font: str, font_bold: str) -> bytes:
    """A one-page A4 PDF; the TrueType font is embedded (subset) so Polish letters survive."""
    title, items, closing = lines(receipt_info(row))
    pdf = FPDF(format="A4")
    pdf.set_creation_date(row.created_at)
    pdf.set_title(f"{title} {row.number}")
    pdf.set_lang("pl")
    pdf.add_font("Receipt", "", font)
    pdf.add_font("Receipt", "B", font_bold)
    pdf.add_page()
    pdf.set_font("Receipt", "B", 16)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(4)
    for item in items:
        pdf.set_font("Receipt", "B", 10)
        pdf.multi_cell(0, 6, f"{item.label}:", new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font("Receipt", "", 11)
        pdf.multi_cell(0, 6, item.value, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(2)
    pdf.ln(4)
    pdf.set_font("Receipt", "", 10)
    pdf.multi_cell(0, 6, closing, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)
    pdf.multi_cell(
        0,
        6,
        f"Poświadczenie opatrzono pieczęcią elektroniczną {platform} i znacznikiem czasu (XAdES B-T). "
        "Dokument XML jest oryginałem; ten wydruk służy do odczytu.",
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
    )
    return bytes(pdf.output())
