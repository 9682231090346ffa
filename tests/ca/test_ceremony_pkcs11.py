"""The key ceremony against a real SoftHSM2 token through the configured PKCS#11 key store:
keys stay non-extractable in the token and the hierarchy verifies (issue: foundation)."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import peewee as pw
from cryptography.hazmat.primitives.serialization import Encoding

from ca.models import Authority
from config.settings import Settings
from core.audit import verify_chain
from core.clock import FrozenClock
from hsm.factory import open_key_store
from hsm.pkcs11 import PKCS11KeyStore
from tests.conftest import make_client
from tests.pki import build_pki
from tests.softhsm import SoftHSMToken


def test_ceremony_on_a_softhsm_token(
    settings: Settings, db: pw.Database, clock: FrozenClock, softhsm_token: SoftHSMToken, tmp_path: Path
) -> None:
    keystore_settings = replace(
        settings.keystore,
        backend="pkcs11",
        module=softhsm_token.module,
        token_label=softhsm_token.label,
        pin=softhsm_token.pin,
    )
    store = open_key_store(keystore_settings)
    assert isinstance(store, PKCS11KeyStore)
    try:
        pki = build_pki(clock, store)
        labels = {row.key_label for row in Authority.select()}
        assert labels <= set(store.labels())
        with softhsm_token.session() as session:
            import pkcs11

            for key in session.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY}):
                assert key[pkcs11.Attribute.SENSITIVE] and not key[pkcs11.Attribute.EXTRACTABLE]
        root, _ = pki.write_chain(tmp_path)
        leaf = tmp_path / "issuing.pem"
        leaf.write_bytes(pki.issuing.public_bytes(Encoding.PEM))
        result = subprocess.run(
            ["openssl", "verify", "-CAfile", str(root), str(leaf)], check=False, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert verify_chain().ok
        client = make_client(settings, ["ca"], db, clock, store)
        ready = client.simulate_get("/readyz")
        assert ready.status_code == 200, ready.json
    finally:
        store.close()
