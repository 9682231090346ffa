"""PAdES fixtures made with the pyHanko signing API at test time."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import fields, signers

from tests.verifier.helpers import Citizen

PAGE_TEXT = b"BT /F1 12 Tf 72 720 Td (Wniosek o wydanie zaswiadczenia) Tj ET"


def blank_pdf(text: bytes = PAGE_TEXT) -> bytes:
    writer = PdfFileWriter()
    content = writer.add_object(generic.StreamObject(stream_data=text))
    font = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
            generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
        }
    )
    resources = generic.DictionaryObject(
        {generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/F1"): writer.add_object(font)})}
    )
    writer.insert_page(PageObject(contents=content, media_box=(0, 0, 595, 842), resources=resources))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def pades_sign(
    citizen: Citizen,
    pdf: bytes | None = None,
    *,
    field: str = "Podpis1",
    timestamper: Any = None,
    bytes_reserved: int | None = None,
) -> bytes:
    signer = signers.SimpleSigner.load(
        str(citizen.key_path), str(citizen.cert_path), ca_chain_files=(str(citizen.chain_path),)
    )
    assert signer is not None
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf if pdf is not None else blank_pdf()))
    out = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper, bytes_reserved=bytes_reserved)
    return out.getvalue()  # type: ignore[no-any-return]


def append_content_change(pdf: bytes, text: bytes) -> bytes:
    """An incremental update that replaces the first page's content stream (a shadow/ISA attack)."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    new_content = writer.add_object(generic.StreamObject(stream_data=text))
    page[generic.NameObject("/Contents")] = new_content
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
