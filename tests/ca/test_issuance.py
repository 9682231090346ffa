"""The issuance pipeline (issue 3): profile content (ETSI EN 319 412-2), pre-signing lint
(CA/B BR §4.3.1.2), serial reservation, crash safety and the TBS check."""

from __future__ import annotations

import logging
from datetime import timedelta

import peewee as pw
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from ca.errors import KeyPolicyError, LintError, ProfileNotFoundError, SigningIntegrityError, SubjectError
from ca.issuance import IssuancePipeline, IssueRequest
from ca.lint import lint_certificate
from ca.models import Certificate
from ca.revocation import RevocationService
from ca.serials import new_serial, to_hex
from ca.status import status_of
from core.audit import AuditHead, AuditRecord, verify_chain
from core.db import atomic
from core.errors import ValidationError
from hsm.base import KeySpec, KeyStore
from tests.ca.conftest import ANNA, JAN, citizen_request, ec_key, with_settings
from tests.pki import TestPKI

QC_STATEMENTS = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")


def test_citizen_certificate_follows_en_319_412_2(pipeline: IssuancePipeline, ca_pki: TestPKI) -> None:
    issued = pipeline.issue(citizen_request(subject_ref="application:42"), actor="test")
    cert = issued.certificate
    # EN 319 412-2 §4.2.4 subject; EN 319 412-1 §5.1.3 semantics identifier as PrintableString.
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "PL"
    assert subject.get_attributes_for_oid(NameOID.GIVEN_NAME)[0].value == "Jan"
    assert subject.get_attributes_for_oid(NameOID.SURNAME)[0].value == "Kowalski"
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Jan Kowalski"
    serial_number = subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0]
    assert serial_number.value == "PNOPL-44051401359"
    assert serial_number._type == _ASN1Type.PrintableString
    # EN 319 412-2 §4.3.2: nonRepudiation + digitalSignature, critical.
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.content_commitment and ku.value.digital_signature and not ku.value.key_cert_sign
    policies = [
        p.policy_identifier.dotted_string
        for p in cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    ]
    assert policies == [ca_pki.settings.policy_oid, "0.4.0.2042.1.3"]
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert {(d.access_method, d.access_location.value) for d in aia} == {
        (AuthorityInformationAccessOID.OCSP, "http://pki.sekap-trust.eu/ocsp"),
        (AuthorityInformationAccessOID.CA_ISSUERS, "http://pki.sekap-trust.eu/certs/citizens.crt"),
    }
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == "http://pki.sekap-trust.eu/crl/citizens.crl"
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.RFC822Name
    ) == ["jan.kowalski@example.com"]
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == ca_pki.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    # Non-qualified: never QC statements (REFERENCE.md, CC SEKAP practice).
    assert all(e.oid != QC_STATEMENTS for e in cert.extensions)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=730)
    # RFC 5280 §4.1.2.2
    assert 0 < cert.serial_number < 2**159 and to_hex(cert.serial_number) == issued.serial
    cert.verify_directly_issued_by(ca_pki.issuing)
    row = Certificate.get(Certificate.serial == issued.serial)
    assert row.state == "issued" and row.subject_ref == "application:42" and bytes(row.der) == issued.der
    assert bytes(row.tbs_der) == cert.tbs_certificate_bytes
    assert status_of(ca_pki.row("citizens"), cert.serial_number).kind == "good"


@pytest.mark.parametrize("subject", [JAN, ANNA], ids=["pesel", "id-card"])
def test_issued_certificates_are_pkilint_clean(pipeline: IssuancePipeline, subject: object) -> None:
    # pkilint PKIX + ETSI EN 319 412-2 natural person: no ERROR or FATAL finding.
    issued = pipeline.issue(citizen_request(subject), actor="test")  # type: ignore[arg-type]
    assert lint_certificate(issued.der, "etsi-natural-person") == []
    assert lint_certificate(issued.der, "pkix") == []


def test_id_card_subject_uses_idcpl(pipeline: IssuancePipeline) -> None:
    cert = pipeline.issue(citizen_request(ANNA), actor="test").certificate
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "IDCPL-ABA300000"
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_signer_profiles_are_pkilint_clean(pipeline: IssuancePipeline, ca_pki: TestPKI) -> None:
    for profile, issuer in (("ocsp-signer", "citizens"), ("tsa", "root"), ("seal", "root")):
        issued = pipeline.issue_named(
            profile, ca_pki.cert("tsa").subject, ec_key().public_key(), actor="t", issuer=issuer
        )
        assert lint_certificate(issued.der) == [], profile
    ocsp = pipeline.issue_named("ocsp-signer", ca_pki.cert("citizens-ocsp").subject, ec_key().public_key(), actor="t")
    assert list(ocsp.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.OCSP_SIGNING
    ]
    ocsp.certificate.extensions.get_extension_for_class(x509.OCSPNoCheck)


def test_ceremony_certificates_are_pkilint_clean(ca_pki: TestPKI) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    for name in ("root", "citizens", "root-ocsp", "citizens-ocsp", "tsa", "audit"):
        assert lint_certificate(ca_pki.cert(name).public_bytes(Encoding.DER)) == [], name


def test_reservation_and_issue_are_audited(pipeline: IssuancePipeline) -> None:
    issued = pipeline.issue(citizen_request(), actor="cli:admin")
    records = list(
        AuditRecord.select().where(AuditRecord.object_id == f"citizens:{issued.serial}").order_by(AuditRecord.seq)
    )
    assert [r.action for r in records] == ["certificate.reserve", "certificate.issue"]
    assert all(r.actor == "cli:admin" for r in records)
    assert verify_chain().ok


def test_bad_subject_is_refused_before_anything_is_written(pipeline: IssuancePipeline) -> None:
    before = Certificate.select().count()
    with pytest.raises(SubjectError) as err:
        pipeline.issue(citizen_request(JAN.__class__("", "Kowalski", pesel="44051401358")), actor="t")
    assert {e.field for e in err.value.errors} == {"given_name", "pesel"}
    assert Certificate.select().count() == before


def test_unknown_and_wrong_profiles(pipeline: IssuancePipeline, ca_pki: TestPKI) -> None:
    with pytest.raises(ProfileNotFoundError):
        pipeline.issue(IssueRequest("nope", JAN, ec_key().public_key()), actor="t")
    with pytest.raises(ValidationError):
        pipeline.issue(IssueRequest("ocsp-signer", JAN, ec_key().public_key()), actor="t")


def test_keys_of_the_hierarchy_are_refused(pipeline: IssuancePipeline, ca_pki: TestPKI) -> None:
    with pytest.raises(KeyPolicyError):
        pipeline.issue(IssueRequest("citizen", JAN, ca_pki.issuing.public_key()), actor="t")  # type: ignore[arg-type]


def test_ed25519_only_where_the_profile_allows(pipeline: IssuancePipeline, ca_pki: TestPKI) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(KeyPolicyError):
        pipeline.issue(IssueRequest("citizen", JAN, key.public_key()), actor="t")
    profiles = dict(ca_pki.settings.profiles)
    import dataclasses

    profiles["citizen"] = dataclasses.replace(profiles["citizen"], allow_ed25519=True)
    relaxed = IssuancePipeline(with_settings(ca_pki.settings, profiles=profiles), ca_pki.key_store, ca_pki.clock)
    assert isinstance(
        relaxed.issue(IssueRequest("citizen", JAN, key.public_key()), actor="t").certificate.public_key(),
        ed25519.Ed25519PublicKey,
    )


class CountingKeyStore(KeyStore):
    """Wraps a store and counts find() calls: the lint must refuse before the CA key is used."""

    def __init__(self, inner: KeyStore, replace: dict[str, object] | None = None) -> None:
        self.inner = inner
        self.finds = 0
        self.replace = replace or {}

    def generate(self, label, spec: KeySpec):  # type: ignore[no-untyped-def]
        return self.inner.generate(label, spec)

    def find(self, label):  # type: ignore[no-untyped-def]
        self.finds += 1
        return self.replace.get(str(label)) or self.inner.find(label)

    def labels(self) -> list[str]:
        return self.inner.labels()

    def check(self) -> None:
        self.inner.check()


def test_lint_error_refuses_without_touching_the_real_key(ca_pki: TestPKI) -> None:
    # CA/B BR §4.3.1.2; ETSI EN 319 412-2 via pkilint: an internal host name in AIA/CDP is an ERROR.
    store = CountingKeyStore(ca_pki.key_store)
    internal = with_settings(ca_pki.settings, public_base_url="http://ca.internal")
    with pytest.raises(LintError) as err:
        IssuancePipeline(internal, store, ca_pki.clock).issue(citizen_request(), actor="t")
    assert any("etsi.internal_domain_name" in f for f in err.value.findings)
    assert store.finds == 0
    row = Certificate.select().where(Certificate.profile == "citizen").get()
    assert row.state == "failed" and row.der is None
    refusal = AuditRecord.get(AuditRecord.action == "certificate.lint_refused")
    assert refusal.outcome == "failure" and "etsi.internal_domain_name" in refusal.details["findings"][0]
    # RFC 6960 §2.2: never good for a serial that was never issued; a failed one cannot be revoked.
    assert status_of(ca_pki.row("citizens"), int(row.serial, 16)).kind == "unknown"


def test_loopback_demo_url_waives_only_the_internal_name_lint(db: object, clock: object, key_store: object) -> None:
    from ca.settings import CASettings

    assert CASettings().lint_allowed == frozenset({"etsi.internal_domain_name"})
    assert CASettings(public_base_url="https://pki.sekap-trust.eu").lint_allowed == frozenset()


def test_crash_between_sign_and_store_leaves_a_revocable_reservation(ca_pki: TestPKI) -> None:
    signed: list[x509.Certificate] = []

    def crash(cert: x509.Certificate) -> None:
        signed.append(cert)
        raise SystemExit("power cut")

    with pytest.raises(SystemExit):
        IssuancePipeline(ca_pki.settings, ca_pki.key_store, ca_pki.clock, after_sign=crash).issue(
            citizen_request(), actor="t"
        )
    (cert,) = signed
    row = Certificate.get(Certificate.serial == to_hex(cert.serial_number))
    assert row.state == "reserved" and bytes(row.tbs_der) == cert.tbs_certificate_bytes
    issuer = ca_pki.row("citizens")
    # Never good; revocable like an issued certificate; then revoked for OCSP and CRL.
    assert status_of(issuer, cert.serial_number).kind == "unknown"
    RevocationService(ca_pki.settings, ca_pki.clock).revoke("citizens", row.serial, "keyCompromise", actor="t")
    assert status_of(issuer, cert.serial_number).kind == "revoked"
    from ca.crl import CRLPublisher

    crl = CRLPublisher(ca_pki.settings, ca_pki.key_store, ca_pki.clock).publish("citizens", actor="t")
    assert crl is not None
    assert x509.load_der_x509_crl(bytes(crl.der)).get_revoked_certificate_by_serial_number(cert.serial_number)


def test_serial_collision_draws_a_new_serial(pipeline: IssuancePipeline, ca_pki: TestPKI) -> None:
    first = pipeline.issue(citizen_request(), actor="t")
    fresh = new_serial()
    draws = iter([int(first.serial, 16), fresh])
    colliding = IssuancePipeline(ca_pki.settings, ca_pki.key_store, ca_pki.clock, serials=lambda: next(draws))
    second = colliding.issue(citizen_request(), actor="t")
    assert second.certificate.serial_number == fresh
    assert Certificate.select().where(Certificate.serial == first.serial).count() == 1


def test_failed_audit_insert_is_not_taken_for_a_serial_collision(
    pipeline: IssuancePipeline, ca_pki: TestPKI, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 15: only a unique-constraint violation on (issuer, serial) is a collision. Here the
    # audit insert fails (a stray record already holds the next sequence number): that error
    # propagates as it is, after one serial, instead of five "collisions" and a misleading
    # "could not reserve a unique serial".
    pipeline.issue(citizen_request(), actor="t")
    head = AuditHead.get_by_id(1)
    with atomic():
        AuditRecord.create(
            seq=head.seq + 1,
            at=ca_pki.clock.now(),
            actor="stray",
            action="stray",
            object_type="stray",
            object_id="1",
            outcome="success",
            details={},
            prev_hash=head.hash,
            hash="0" * 64,
        )
    drawn: list[int] = []

    def serials() -> int:
        drawn.append(new_serial())
        return drawn[-1]

    failing = IssuancePipeline(ca_pki.settings, ca_pki.key_store, ca_pki.clock, serials=serials)
    with pytest.raises(pw.IntegrityError), caplog.at_level(logging.WARNING, logger="ca.issuance"):
        failing.issue(citizen_request(), actor="t")
    assert len(drawn) == 1
    assert not [r for r in caplog.records if "collision" in r.getMessage()]
    # The failed transaction left no reservation behind.
    assert Certificate.select().where(Certificate.serial == to_hex(drawn[0])).count() == 0


def test_signature_by_a_wrong_key_is_caught_and_stays_reserved(ca_pki: TestPKI) -> None:
    # A misbehaving key store (wrong key behind the label): same TBS, signature does not verify.
    label = ca_pki.row("citizens").key_label
    store = CountingKeyStore(ca_pki.key_store, {label: ec.generate_private_key(ec.SECP256R1())})
    with pytest.raises(SigningIntegrityError):
        IssuancePipeline(ca_pki.settings, store, ca_pki.clock).issue(citizen_request(), actor="t")
    row = Certificate.select().where(Certificate.profile == "citizen").get()
    assert row.state == "reserved"
    assert AuditRecord.select().where(AuditRecord.action == "certificate.integrity_failure").count() == 1


def test_renewal_may_start_later_but_not_arbitrarily(pipeline: IssuancePipeline, ca_pki: TestPKI) -> None:
    start = ca_pki.clock.now() + timedelta(days=20)
    issued = pipeline.issue(citizen_request(not_before=start), actor="t")
    assert issued.not_before == start
    with pytest.raises(ValidationError):
        pipeline.issue(citizen_request(not_before=ca_pki.clock.now() + timedelta(days=365)), actor="t")


def test_officer_profile_adds_client_auth(pipeline: IssuancePipeline) -> None:
    cert = pipeline.issue(IssueRequest("officer", ANNA, ec_key().public_key()), actor="t").certificate
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    assert (
        lint_certificate(
            cert.public_bytes(
                __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER
            ),
            "etsi-natural-person",
        )
        == []
    )
