"""Counter-signatures, shared by CMS/CAdES (:mod:`verifier.counter_cms`) and XAdES
(:mod:`verifier.counter_xades`): walking nested counter-signatures within bounds, and the
certificate-path part of their validation (the same EN 319 102-1 §5.2.6 machinery and
indications as the main signatures: :func:`verifier.paths.validate_certificate_path`).

A counter-signature is judged on its own. Its result never changes the indication of the
signature it counters; the report lists it and the countered signature carries a warning.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from asn1crypto import x509 as asn1_x509

from verifier.archive import ValidationData
from verifier.common import PARSE_ERRORS, certificate_info, signer_identity
from verifier.environment import VerificationEnvironment
from verifier.paths import validate_certificate_path
from verifier.report import (
    PASSED,
    CertificateInfo,
    CounterSignatureReport,
    Indication,
    RevocationEvidence,
    SubIndication,
    Verdict,
)

# Nesting deeper than this (a counter-signature of a counter-signature of …) is not validated.
MAX_COUNTER_DEPTH = 4
# At most this many counter-signatures (all depths) are validated per main signature.
MAX_COUNTER_SIGNATURES = 16

Node = TypeVar("Node")


@dataclass(frozen=True)
class CounterBase:
    """What the report of one counter-signature says besides the verdict and the chain."""

    id: str
    counters: str
    format: str
    claimed_signing_time: datetime | None = None
    signature_algorithm: str | None = None
    digest_algorithm: str | None = None


def failed(base: CounterBase, verdict: Verdict, cert: asn1_x509.Certificate | None = None) -> CounterSignatureReport:
    """The report of a counter-signature that did not get as far as its certificate path."""
    return _report(base, verdict, cert, (certificate_info(cert),) if cert is not None else (), ())


def _report(
    base: CounterBase,
    verdict: Verdict,
    cert: asn1_x509.Certificate | None,
    chain: tuple[CertificateInfo, ...],
    revocation: tuple[RevocationEvidence, ...],
) -> CounterSignatureReport:
    return CounterSignatureReport(
        id=base.id,
        counters=base.counters,
        format=base.format,
        indication=verdict.indication,
        sub_indication=verdict.sub_indication,
        signer=signer_identity(cert) if cert is not None else None,
        claimed_signing_time=base.claimed_signing_time,
        certificate_chain=chain,
        revocation=revocation,
        signature_algorithm=base.signature_algorithm,
        digest_algorithm=base.digest_algorithm,
        warnings=(verdict.reason,) if verdict.reason and verdict is not PASSED else (),
    )


def format_failure(counter_id: str, counters: str, fmt: str, reason: str) -> CounterSignatureReport:
    verdict = Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, reason)
    return failed(CounterBase(counter_id, counters, fmt), verdict)


async def with_path(
    base: CounterBase, cert: asn1_x509.Certificate, data: ValidationData, env: VerificationEnvironment
) -> CounterSignatureReport:
    """A cryptographically valid counter-signature: its signer's certificate path and
    revocation (EN 319 102-1 §5.2.6) at the validation time decide the indication."""
    contexts = env.contexts(other_certs=data.certs, crls=data.crls, ocsps=data.ocsps)
    try:
        outcome = await validate_certificate_path(cert, contexts.signer, env.trust, env.moment)
    except PARSE_ERRORS as exc:
        verdict = Verdict(
            Indication.INDETERMINATE,
            SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            f"the certificate path cannot be validated ({type(exc).__name__})",
        )
        return failed(base, verdict, cert)
    verdict = outcome.verdict
    if outcome.path is not None:
        chain = tuple(certificate_info(c) for c in reversed(list(outcome.path.iter_certs(include_root=True))))
    else:
        chain = (certificate_info(cert),)
    return _report(base, verdict, cert, chain, env.evidence(contexts))


@dataclass(frozen=True)
class Walk(Generic[Node]):
    """How to find and judge the counter-signatures of one format.

    ``children(node)`` lists the counter-signatures a (counter-)signature carries, None for one
    that cannot even be read; ``judge(child, parent, id, parent_id)`` returns its report and the
    node to look for nested counter-signatures in (None when it failed before that)."""

    fmt: str
    children: Callable[[Node], Sequence[Node | None]]
    judge: Callable[[Node, Node, str, str], Awaitable[tuple[CounterSignatureReport, Node | None]]]


async def walk(top: Node, top_id: str, how: Walk[Node]) -> tuple[CounterSignatureReport, ...]:
    """Every counter-signature of ``top`` (breadth first, nested ones too), within
    :data:`MAX_COUNTER_DEPTH` and :data:`MAX_COUNTER_SIGNATURES`; what lies beyond gets a
    report saying it was not validated."""
    found: list[CounterSignatureReport] = []
    queue: list[tuple[Node, str, int]] = [(top, top_id, 1)]
    while queue:
        parent, parent_id, depth = queue.pop(0)
        for number, child in enumerate(how.children(parent)):
            child_id = f"{parent_id}/counter-{number}"
            if len(found) >= MAX_COUNTER_SIGNATURES:
                found.append(_not_validated(child_id, parent_id, how.fmt, f"more than {MAX_COUNTER_SIGNATURES}"))
                return tuple(found)
            if depth > MAX_COUNTER_DEPTH:
                found.append(_not_validated(child_id, parent_id, how.fmt, f"nested deeper than {MAX_COUNTER_DEPTH}"))
                break
            if child is None:
                found.append(format_failure(child_id, parent_id, how.fmt, "the counter-signature cannot be read"))
                continue
            report, nested = await how.judge(child, parent, child_id, parent_id)
            found.append(report)
            if nested is not None:
                queue.append((nested, child_id, depth + 1))
    return tuple(found)


def _not_validated(counter_id: str, counters: str, fmt: str, why: str) -> CounterSignatureReport:
    verdict = Verdict(
        Indication.INDETERMINATE,
        SubIndication.GENERIC,
        f"counter-signatures {why} are not validated (and no further ones are reported)",
    )
    return failed(CounterBase(counter_id, counters, fmt), verdict)
