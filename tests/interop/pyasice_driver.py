"""Run inside ``.venv-pyasice`` (see pyasice_env.py): pyasice makes or checks an ASiC-E.

    make OUT KEY_PEM CERT_PEM FILE...   pack FILEs and sign with pyasice (XAdES, B-B)
    make-lt OUT KEY_PEM CERT_PEM ISSUER_PEM OCSP_URL TSA_URL FILE...
                                        the same, finalised by pyasice as LT-TS: a SignatureTimeStamp
                                        from TSA_URL, the OCSP response from OCSP_URL embedded
    verify IN                           open with pyasice and verify every signature

Only pyasice, its dependencies and cryptography are used here: nothing from this project.
"""

import json
import sys
from pathlib import Path

import pyasice
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pyasice.utils import finalize_signature


def make(out, key_pem, cert_pem, files, lt=None):
    key = serialization.load_pem_private_key(Path(key_pem).read_bytes(), None)
    cert_der = x509.load_pem_x509_certificate(Path(cert_pem).read_bytes()).public_bytes(serialization.Encoding.DER)
    container = pyasice.Container()
    for name in files:
        container.add_file(Path(name).name, Path(name).read_bytes(), "application/xml")
    signature = container.prepare_signature(cert_der)
    data = signature.signed_data()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        size = (key.curve.key_size + 7) // 8
        value = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    else:
        value = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    signature.set_signature_value(value)
    signature.verify()
    if lt is None:
        signature.remove_timestamp_node()
    else:
        issuer_pem, ocsp_url, tsa_url = lt
        issuer = x509.load_pem_x509_certificate(Path(issuer_pem).read_bytes()).public_bytes(serialization.Encoding.DER)
        finalize_signature(signature, issuer, lt_ts=True, ocsp_url=ocsp_url, tsa_url=tsa_url)
    container.add_signature(signature)
    Path(out).write_bytes(container.finalize().getvalue())


def verify(path):
    with open(path, "rb") as stream:
        container = pyasice.Container(stream)
        container.verify_signatures()
        result = {
            "data_files": sorted(container.data_file_names),
            "signatures": [name for _, name in container.iter_signatures_with_filenames()],
            "signers": [s.get_certificate_value().hex()[:16] for s in container.iter_signatures()],
        }
    print(json.dumps(result))


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "make":
        make(rest[0], rest[1], rest[2], rest[3:])
    elif command == "make-lt":
        make(rest[0], rest[1], rest[2], rest[6:], lt=(rest[3], rest[4], rest[5]))
    elif command == "verify":
        verify(rest[0])
    else:
        sys.exit(f"unknown command {command}")
