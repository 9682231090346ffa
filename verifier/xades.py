"""XAdES / XML-DSig (ETSI EN 319 132-1, W3C XML Signature 1.1): the public entry points.

The work is split by concern: :mod:`verifier.xades_parsing` (hardened parser, what a signature
holds), :mod:`verifier.xades_references` (signxml's check of SignedInfo and its references, and
what they cover), :mod:`verifier.xades_validation` (path, timestamps, report).
"""

from __future__ import annotations

from verifier.xades_parsing import DS, NS, XADES, XADES141, find_signatures, hardened_parser, parse_xml
from verifier.xades_validation import validate_xml

__all__ = ["DS", "NS", "XADES", "XADES141", "find_signatures", "hardened_parser", "parse_xml", "validate_xml"]
