"""The agreement the citizen signs at the point, as a PDF to print: the published text filled with
the application's data, signature lines for the citizen and the officer, two copies (one for the
citizen, one for the point's records). DejaVu Sans (Debian fonts-dejavu-core) carries the Polish
letters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF

from core.errors import ConfigurationError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
WARSAW = ZoneInfo("Europe/Warsaw")
COPIES = ("Egzemplarz dla obywatela", "Egzemplarz dla punktu certyfikacji")


def _document(app: Any) -> str:
    if app.pesel:
        return f"PESEL {app.pesel}"
    kind = {"id_card": "dowód osobisty", "passport": "paszport"}.get(app.document_type, "dokument")
    return f"{kind} {app.document_number}"


def _pdf() -> FPDF:
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not regular.is_file() or not bold.is_file():
        raise ConfigurationError("fonts", f"DejaVu fonts are missing in {FONT_DIR} (Debian: fonts-dejavu-core)")
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_title("Umowa o świadczenie usług certyfikacyjnych")
    pdf.set_creator("sekap-trust")
    pdf.set_lang("pl")
    return pdf


def _copy(pdf: FPDF, label: str, app: Any, agreement: Any, printed: datetime) -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(0, 5, label, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, "Umowa o świadczenie usług certyfikacyjnych", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(0, 6, f"wersja {agreement.version} — wniosek {app.reference}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    point = app.point
    rows = (
        ("Obywatel", f"{app.given_names} {app.surname}"),
        ("Identyfikator", _document(app)),
        ("Adres", f"{app.street}, {app.postal_code} {app.city}"),
        ("Kontakt", f"{app.email}, tel. {app.phone}"),
        ("Punkt certyfikacji", f"{point.name}, {point.street}, {point.postal_code} {point.city}"),
        ("Klucz", "wygenerowany w punkcie (plik PKCS#12)" if app.key_generation == "point" else "własny (żądanie CSR)"),
        ("Data wydruku", printed.astimezone(WARSAW).strftime("%d.%m.%Y, %H:%M")),
    )
    for name, value in rows:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(45, 6, name)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 5.5, agreement.text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.multi_cell(
        0,
        5.5,
        "Oświadczam, że dane we wniosku są zgodne z okazanym dokumentem tożsamości, że jestem osobą "
        "pełnoletnią oraz że treść umowy jest mi znana i ją akceptuję.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    _signatures(pdf)


def _signatures(pdf: FPDF) -> None:
    if pdf.get_y() > 240:
        pdf.add_page()
    pdf.set_y(max(pdf.get_y() + 18, 245))
    width = (pdf.w - pdf.l_margin - pdf.r_margin - 20) / 2
    y = pdf.get_y()
    pdf.line(pdf.l_margin, y, pdf.l_margin + width, y)
    pdf.line(pdf.l_margin + width + 20, y, pdf.w - pdf.r_margin, y)
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(width, 5, "data i podpis obywatela", align="C")
    pdf.set_x(pdf.l_margin + width + 20)
    pdf.cell(width, 5, "data, podpis i pieczęć pracownika punktu", align="C", new_x="LMARGIN", new_y="NEXT")


def agreement_pdf(app: Any, agreement: Any, printed: datetime) -> bytes:
    """Two copies of the filled agreement, each starting on its own page."""
    pdf = _pdf()
    for label in COPIES:
        _copy(pdf, label, app, agreement, printed)
    return bytes(pdf.output())
