"""Receipt-service settings (section ``[receipts]``)."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigurationError


@dataclass(frozen=True)
class ReceiptsSettings:
    """How receipts are made.

    - ``seal_authority``: the authority (role ``receipts``, made by the ceremony) whose key seals
      UPO/UPD documents.
    - ``tsa_authority``: our TSA, called in process for the signature timestamp (level B-T).
    - ``platform_name``: who issues the receipts, as printed on the Polish rendering.
    - ``pdf_font``: a TrueType font with Polish letters for the PDF rendering.
    """

    seal_authority: str = "receipt-seal"
    tsa_authority: str = "tsa"
    platform_name: str = "SEKAP Trust"
    max_package_bytes: int = 20 * 1024 * 1024
    pdf_font: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    pdf_font_bold: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

    def __post_init__(self) -> None:
        for key in ("seal_authority", "tsa_authority", "platform_name", "pdf_font", "pdf_font_bold"):
            if not getattr(self, key).strip():
                raise ConfigurationError(f"receipts.{key}", "must not be empty")
        if not 1024 <= self.max_package_bytes <= 512 * 1024 * 1024:
            raise ConfigurationError("receipts.max_package_bytes", "must be between 1 KiB and 512 MiB")
