"""Mount the CA's download resources and provide the CA's periodic jobs."""

from __future__ import annotations

import logging

from ca import reconcile
from ca.api import CertificateAuthority, LocalCertificateAuthority
from ca.crl import CRLPublisher
from ca.policy_documents import PolicyDocumentResource
from ca.resources import AuthorityCertificateResource, CRLResource
from ca.revocation import RevocationService
from ca.signers import renew_ocsp_signers
from config.runtime import Runtime, WSGIApp
from core.job_runs import JobResult


def certificate_authority(runtime: Runtime) -> CertificateAuthority:
    """The CA port of this process, built once per runtime and injected into enrollment (and the
    CLI); the key store opens only when a certificate is issued."""
    return runtime.shared(
        "ca", lambda: LocalCertificateAuthority(runtime.settings.ca, lambda: runtime.key_store, runtime.clock)
    )


logger = logging.getLogger(__name__)


def mount(app: WSGIApp, runtime: Runtime) -> None:
    app.add_route("/certs/{name}.crt", AuthorityCertificateResource())
    # /crl/<ca>.crl (full) and /crl/<ca>-delta.crl (delta)
    app.add_route("/crl/{name}.crl", CRLResource(runtime.clock))
    # The CPS named in every certificate's policy qualifier and the PKI disclosure statement.
    app.add_route("/policy/{name}", PolicyDocumentResource(runtime.settings.ca))


def crl_publish_due_job(runtime: Runtime) -> JobResult:
    """Publish CRLs after status changes and before half their validity (ca.crl)."""
    done = CRLPublisher(runtime.settings.ca, runtime.key_store, runtime.clock).publish_due()
    return JobResult(f"published {', '.join(done)}" if done else "nothing due", {"published": len(done)})


def expire_holds_job(runtime: Runtime) -> JobResult:
    count = RevocationService(runtime.settings.ca, runtime.clock).expire_holds()
    return JobResult(f"{count} hold(s) turned into revocations", {"revoked": count})


def renew_ocsp_signers_job(runtime: Runtime) -> JobResult:
    renewed = renew_ocsp_signers(runtime.settings.ca, runtime.key_store, runtime.clock)
    return JobResult(f"renewed {', '.join(renewed)}" if renewed else "no OCSP signer due", {"renewed": len(renewed)})


def reconcile_job(runtime: Runtime) -> JobResult:
    """``ca.reconcile``: reservations older than a few minutes are signatures that may exist
    without a stored certificate (a crash between signing and storing); an administrator
    resolves them (``sekap-trust audit reconcile``)."""
    stale = reconcile.stale_reservations(runtime.clock.now())
    if stale:
        logger.warning("%d stale reservation(s): run `sekap-trust audit reconcile` and resolve them", len(stale))
    return JobResult(f"{len(stale)} stale reservation(s)", {"stale_reservations": len(stale)})
