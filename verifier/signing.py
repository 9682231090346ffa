"""The signed report: the report JSON encapsulated in a CMS SignedData (RFC 5652, CAdES B-B
attributes of ETSI EN 319 122-1 §5.2: content-type, message-digest, signing-time,
signing-certificate-v2), so the portal can archive one self-contained file.

Attached (encapsulated) rather than detached: the archived ``.p7m`` carries the exact JSON bytes
that were signed, so nobody has to keep two files byte-identical. Media type
``application/pkcs7-mime; smime-type=signed-data`` (RFC 8551 §3.2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from core.cms import ID_DATA, SignedDataSigner
from verifier.errors import ReportSigningError

SIGNED_REPORT_MEDIA_TYPE = "application/pkcs7-mime; smime-type=signed-data"


def sign_report(payload: bytes, key: Any, certificate: x509.Certificate, signing_time: datetime) -> bytes:
    """CMS SignedData (DER) encapsulating ``payload``, signed by ``key`` (any cryptography key object,
    software or HSM-backed)."""
    try:
        signer = SignedDataSigner(
            certificate.public_bytes(Encoding.DER), key, content_type=ID_DATA, ess_issuer_serial=False
        )
    except TypeError:
        raise ReportSigningError("unsupported report signer key") from None
    return signer.sign(payload, include_certificate=True, signing_time=signing_time)
