"""ASiC-S and ASiC-E validation (EN 319 162-1): each signature with the CAdES/XAdES validators,
then the package policy: every data file covered by at least one valid signature."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, replace
from urllib.parse import unquote

from lxml import etree  # type: ignore[import-untyped]

from verifier.asic.container import Container, classify
from verifier.asic.model import FileCoverage, MimetypeInfo, PackageInfo, SignatureFileInfo
from verifier.asic.zipread import ZipFormatError, ZipLimits, read_zip
from verifier.cades import load_signed_data, validate_cms
from verifier.detect import Part
from verifier.environment import VerificationEnvironment
from verifier.errors import UnparseableDocumentError
from verifier.report import PASSED, Indication, SignatureReport, SubIndication, Verdict, worst
from verifier.report import renamed as rename
from verifier.xades import DS, NS, find_signatures, parse_xml, validate_xml
from verifier.xades_parsing import SIGNED_PROPERTIES_TYPE

ASIC_NS = "http://uri.etsi.org/02918/v1.2.1#"
_DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
NOT_COVERED = Verdict(Indication.INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE, "not covered by any signature")


@dataclass(frozen=True)
class PackageResult:
    signatures: tuple[SignatureReport, ...]
    package: PackageInfo
    verdict: Verdict
    warnings: tuple[str, ...]


def unreadable(error: ZipFormatError) -> PackageResult:
    reason = f"{error.reason}: {error}"
    return PackageResult(
        (),
        PackageInfo(container=None, mimetype=MimetypeInfo(present=False), problems=(reason,)),
        Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, reason),
        (f"the container cannot be read safely ({reason})",),
    )


async def validate_package(
    data: bytes, env: VerificationEnvironment, limits: ZipLimits, *, max_signatures: int = 16
) -> PackageResult:
    try:
        container = classify(read_zip(data, limits))
    except ZipFormatError as exc:
        return unreadable(exc)
    problems: list[str] = list(container.mimetype.problems if container.mimetype.present else ())
    warnings: list[str] = [
        f"{name} is not validated (ASiC timestamp tokens are not supported)" for name in container.unsupported
    ]
    if not container.mimetype.present:
        warnings.extend(container.mimetype.problems)
    if container.mimetype.extra_field:
        warnings.append("mimetype has an extra field in its local header")
    if container.kind == "ASiC-S" and len(container.data_files) != 1:
        problems.append(f"an ASiC-S container holds exactly one data file, not {len(container.data_files)}")
    reports: list[SignatureReport] = []
    infos: list[SignatureFileInfo] = []
    for name in sorted(container.xades_files):
        found, info = await _xades_file(name, container, env, max_signatures - len(reports))
        reports.extend(found)
        infos.append(info)
    for name in sorted(container.cades_files):
        found, info = await _cades_file(name, container, env, max_signatures - len(reports))
        reports.extend(found)
        infos.append(info)
    for info in infos:
        problems.extend(f"{info.name}: {p}" for p in info.problems)
    files = _file_coverage(container, reports, infos)
    verdicts = [Verdict(r.indication, r.sub_indication, None) for r in reports]
    verdicts += [Verdict(f.indication, f.sub_indication, f"{f.name}: {f.reason}") for f in files]
    if problems:
        verdicts.append(Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, problems[0]))
    if not reports:
        verdicts.append(
            Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, "the container holds no signature")
        )
    if not container.data_files:
        verdicts.append(
            Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, "the container holds no data file")
        )
    package = PackageInfo(
        container=container.kind,
        mimetype=container.mimetype,
        files=tuple(files),
        signature_files=tuple(infos),
        not_covered=tuple(f.name for f in files if not f.covered_by),
        problems=tuple(problems),
    )
    warnings += [f"{f.name}: {f.reason}" for f in files if f.reason]
    return PackageResult(tuple(reports), package, worst(verdicts), tuple(warnings))


def _data_references(signature: etree._Element) -> list[str]:
    """URIs of the ds:References that point at files (not at elements of the signature)."""
    uris = []
    for reference in signature.iterfind("ds:SignedInfo/ds:Reference", NS):
        uri = reference.get("URI")
        if uri is None or uri == "" or uri.startswith("#") or reference.get("Type") == SIGNED_PROPERTIES_TYPE:
            continue
        uris.append(uri)
    return uris


def _counter_parts(root: etree._Element, container: Container, parts: dict[str, Part]) -> list[Part]:
    """The main signatures' parts and the data files counter-signatures reference besides the
    countered SignatureValue (EN 319 132-1 §5.2.7.2 allows further references)."""
    found = dict(parts)
    for signature in root.iter(f"{{{DS}}}Signature"):
        for uri in _data_references(signature):
            file_name = _file_name(uri)
            if uri not in found and file_name in container.data_files:
                found[uri] = Part(name=uri, filename=uri, content_type=None, data=container.data_files[file_name])
    return list(found.values())


def _file_name(uri: str) -> str:
    """A reference URI as a container path (EN 319 162-1 §4.4.3.2: relative to the root)."""
    name = unquote(uri)
    return name[2:] if name.startswith("./") else name


async def _xades_file(
    name: str, container: Container, env: VerificationEnvironment, budget: int
) -> tuple[list[SignatureReport], SignatureFileInfo]:
    try:
        root = parse_xml(container.xades_files[name])
    except UnparseableDocumentError as exc:
        return [], SignatureFileInfo(name, "XAdES", (), (), problems=(exc.message,))
    signatures = find_signatures(root)
    if not signatures:
        return [], SignatureFileInfo(name, "XAdES", (), (), problems=("holds no ds:Signature",))
    problems: list[str] = []
    parts: dict[str, Part] = {}
    for signature in signatures:
        for uri in _data_references(signature):
            file_name = _file_name(uri)
            if file_name not in container.data_files:
                problems.append(f"a reference points at {file_name!r}, which is not a data file of the container")
            else:
                parts[uri] = Part(name=uri, filename=uri, content_type=None, data=container.data_files[file_name])
    if budget <= 0:
        return [], SignatureFileInfo(name, "XAdES", (), (), problems=("too many signatures in the container",))
    found, _warnings = await validate_xml(
        root, env, list(parts.values()), max_signatures=budget, counter_parts=_counter_parts(root, container, parts)
    )
    renamed = [rename(r, f"{name}#{r.id}") for r in found]
    covers = sorted({_file_name(p) for r in renamed for p in r.coverage.detached_parts})
    if not covers:
        covers = sorted({_file_name(u) for s in signatures for u in _data_references(s)} & set(container.data_files))
    counters = sum(len(r.counter_signatures) for r in renamed)
    return renamed, SignatureFileInfo(
        name,
        "XAdES",
        tuple(r.id for r in renamed),
        tuple(covers),
        counter_signatures=counters,
        problems=tuple(problems),
    )


async def _cades_file(
    name: str, container: Container, env: VerificationEnvironment, budget: int
) -> tuple[list[SignatureReport], SignatureFileInfo]:
    manifest_name = _manifest_for(name, container)
    if manifest_name is not None:
        signed_name, signed_bytes = manifest_name, container.manifests[manifest_name]
    elif container.kind == "ASiC-S" and len(container.data_files) == 1:
        signed_name, signed_bytes = next(iter(container.data_files.items()))
    else:
        return [], SignatureFileInfo(name, "CAdES", (), (), problems=("no ASiCManifest references this signature",))
    if budget <= 0:
        return [], SignatureFileInfo(name, "CAdES", (), (), problems=("too many signatures in the container",))
    try:
        signed_data = load_signed_data(container.cades_files[name])
        found, _warnings = await validate_cms(
            signed_data, env, [Part(signed_name, signed_name, None, signed_bytes)], max_signatures=budget
        )
    except UnparseableDocumentError as exc:
        return [], SignatureFileInfo(name, "CAdES", (), (), manifest=manifest_name, problems=(exc.message,))
    renamed = [rename(r, f"{name}#{r.id}") for r in found]
    counters = sum(len(r.counter_signatures) for r in renamed)
    if manifest_name is None:
        covers: list[str] = [signed_name]
        problems: list[str] = []
    else:
        covers, problems, failure = _manifest_coverage(manifest_name, signed_bytes, container)
        if failure is not None:
            renamed = [_downgrade(r, failure) for r in renamed]
    return renamed, SignatureFileInfo(
        name,
        "CAdES",
        tuple(r.id for r in renamed),
        tuple(covers),
        manifest=manifest_name,
        counter_signatures=counters,
        problems=tuple(problems),
    )


def _manifest_for(signature_name: str, container: Container) -> str | None:
    for manifest_name, content in sorted(container.manifests.items()):
        try:
            root = parse_xml(content)
        except UnparseableDocumentError:
            continue
        reference = root.find(f"{{{ASIC_NS}}}SigReference")
        if reference is not None and _file_name(reference.get("URI", "")) == signature_name:
            return manifest_name
    return None


def _manifest_coverage(
    manifest_name: str, content: bytes, container: Container
) -> tuple[list[str], list[str], Verdict | None]:
    """EN 319 162-1 §A.4: each DataObjectReference's digest must match its data file."""
    root = parse_xml(content)
    covers: list[str] = []
    problems: list[str] = []
    failure: Verdict | None = None
    for reference in root.iterfind(f"{{{ASIC_NS}}}DataObjectReference"):
        file_name = _file_name(reference.get("URI", ""))
        method = reference.find(f"{{{DS}}}DigestMethod")
        value = reference.find(f"{{{DS}}}DigestValue")
        algorithm = _DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
        if file_name not in container.data_files:
            problems.append(f"{manifest_name} references {file_name!r}, which is not a data file of the container")
            continue
        try:
            expected = base64.b64decode("".join((value.text or "").split()) if value is not None else "", validate=True)
        except (binascii.Error, ValueError):
            expected = b""
        if algorithm is None:
            failure = Verdict(
                Indication.INDETERMINATE,
                SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
                f"{file_name}: digest algorithm not accepted",
            )
            continue
        if hashlib.new(algorithm, container.data_files[file_name]).digest() != expected:
            failure = Verdict(
                Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE, f"{file_name}: digest does not match the manifest"
            )
            continue
        covers.append(file_name)
    return sorted(covers), problems, failure


def _downgrade(report: SignatureReport, verdict: Verdict) -> SignatureReport:
    combined = worst([Verdict(report.indication, report.sub_indication), verdict])
    return replace(
        report,
        indication=combined.indication,
        sub_indication=combined.sub_indication,
        warnings=(*report.warnings, verdict.reason or ""),
    )


def _file_coverage(
    container: Container, reports: list[SignatureReport], infos: list[SignatureFileInfo]
) -> list[FileCoverage]:
    by_id = {r.id: r for r in reports}
    covers: dict[str, set[str]] = {}
    for info in infos:
        for sid in info.signature_ids:
            if info.format == "XAdES":
                # Per signature: a signature file may hold several signatures over different files.
                uris = {_file_name(ref.uri) for ref in by_id[sid].coverage.references if ref.uri and ref.uri[0] != "#"}
                covers[sid] = uris & set(info.covers)
            else:
                covers[sid] = set(info.covers)
    files = []
    for name in sorted(container.data_files):
        content = container.data_files[name]
        covering = [sid for sid in by_id if name in covers.get(sid, set())]
        valid = [sid for sid in covering if by_id[sid].indication is Indication.TOTAL_PASSED]
        if valid:
            verdict = PASSED
        elif covering:
            best = [Verdict(by_id[s].indication, by_id[s].sub_indication) for s in covering]
            weakest = min(best, key=lambda v: list(Indication).index(v.indication))
            verdict = Verdict(weakest.indication, weakest.sub_indication, "no valid signature covers it")
        else:
            verdict = NOT_COVERED
        files.append(
            FileCoverage(
                name=name,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                covered_by=tuple(covering),
                valid_signatures=tuple(valid),
                indication=verdict.indication,
                sub_indication=verdict.sub_indication,
                reason=verdict.reason,
            )
        )
    return files
