"""``build_site``: verify a record and write its public site, a folder of static files (docs/site.md).

The verifier (:func:`degcore.verify.verify_record`) decides everything the site says: a record
that verifies gets its result, charts, lookup index and documents; one that does not gets pages
that say so, with the checks and no result and no lookup (as ``degcore result`` prints no
result). The site is written into a fresh folder beside ``out`` and moved into place at the end,
so a half-written site never replaces a whole one. The record's files are copied into
``record/`` while their SHA-256 is compared with the signed index.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from degcore.encoding import FORMAT
from degcore.errors import DegcoreError, InvalidInput
from degcore.record import RecordReader, layout, load_context
from degcore.site.lookup_index import IndexSummary, log_rows, write_lookup_index
from degcore.site.pages import PageData, render_page
from degcore.verify import Report, verify_record
from degcore.verify.receipts import record_setup

__all__ = ["MARKER", "Site", "build_site", "check_target"]

#: The file that marks a folder as a site written by ``build_site`` (which may then replace it).
MARKER = "degcore-site.json"
_ASSETS = ("lookup.js", "site.css")


@dataclass(frozen=True, slots=True)
class Site:
    """What was written: where, whether the record verified, the pages and the lookup index."""

    out: Path
    verified: bool
    report: Report
    pages: tuple[Path, ...]
    lookup: IndexSummary | None


def build_site(
    record: str | Path,
    out: str | Path,
    *,
    report: Report | None = None,
    executor: Executor | None = None,
) -> Site:
    """Verify ``record`` (unless its ``report`` is given) and write its site to ``out``.

    ``out`` must be absent, an empty folder or a site this function wrote (it is replaced); it may
    not lie inside the record nor contain it. InvalidInput if ``record`` is not a readable record.
    """
    record, out = Path(record), Path(out)
    reader = RecordReader(record)
    check_target(record, out)
    if report is None:
        report = verify_record(record, executor=executor)
    staging = out.with_name(f".{out.name}.building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        site = _write(reader, report, staging)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pages = tuple(out / p.relative_to(staging) for p in site.pages)
    return Site(out, site.verified, report, pages, site.lookup)


def check_target(record: str | Path, out: str | Path) -> None:
    """InvalidInput unless ``out`` can take the site of ``record`` (checked before verifying)."""
    record, out = Path(record), Path(out)
    real_record, real_out = record.resolve(), out.resolve()
    if real_out == real_record or real_out.is_relative_to(real_record):
        raise InvalidInput(f"{out} is inside the record {record}: write the site elsewhere")
    if real_record.is_relative_to(real_out):
        raise InvalidInput(f"{out} contains the record {record}: write the site elsewhere")
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise InvalidInput(f"{out} is not empty and not a site written by degcore site")


def _swap(staging: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _write(reader: RecordReader, report: Report, folder: Path) -> Site:
    assets = folder / "assets"
    assets.mkdir()
    for name in _ASSETS:
        (assets / name).write_bytes(resources.files("degcore.site").joinpath("assets", name).read_bytes())
    documents = _copy_documents(reader, folder / "record", report.record_sha256 if report.ok else None)
    data = PageData(report, documents=documents)
    lookup = None
    if report.ok:
        manifest = reader.manifest()
        context = load_context(reader.root)
        setup = record_setup(reader, context)
        published = reader.result()
        result = published if isinstance(published, Mapping) else {}
        lines = reader.index().get("lines", {})
        expected = lines.get(layout.LOG, 0) if isinstance(lines, Mapping) else 0
        lookup = write_lookup_index(log_rows(reader, setup.box_policy), folder / "lookup", int(expected))
        meta = {
            "format": FORMAT,
            "election": context.base_hash.hex(),
            "election_id": manifest.election_id,
            "box_key": setup.box_key.hex(),
            "prefix": lookup.prefix_length,
        }
        script = "window.DEGCORE_SITE = " + json.dumps(meta, sort_keys=True).replace("<", "\\u003c") + ";\n"
        (folder / "lookup" / "meta.js").write_text(script, encoding="utf-8")
        data = PageData(report, manifest, result, setup.remote_list_counts, documents, lookup=True)
    pages = (folder / "index.html", folder / "en" / "index.html")
    pages[1].parent.mkdir()
    for page, lang in zip(pages, ("ru", "en"), strict=True):
        page.write_text(render_page(data, lang), encoding="utf-8")
    marker = {
        "verified": report.ok,
        "record_sha256": report.record_sha256,
        "election_id": report.election_id,
        "lookup_prefix_length": lookup.prefix_length if lookup else 0,
    }
    (folder / MARKER).write_text(json.dumps(marker, sort_keys=True) + "\n", encoding="utf-8")
    return Site(folder, report.ok, report, pages, lookup)


def _copy_documents(reader: RecordReader, target: Path, verified_sha256: str | None) -> list[tuple[str, int]]:
    """Copy ``record.json`` and every file it lists; for a verified record each must still match.

    ``verified_sha256``: the SHA-256 of the ``record.json`` that was verified (None: not verified).
    """
    strict = verified_sha256 is not None
    try:
        files = reader.index().get("files")
    except DegcoreError:
        return []
    if not isinstance(files, Mapping):
        return []
    copied: list[tuple[str, int]] = []
    for name in [layout.INDEX, *sorted(files)]:
        try:
            source = reader.regular(name)
        except DegcoreError:
            if strict:
                raise
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with source.open("rb") as src, destination.open("wb") as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                digest.update(block)
                dst.write(block)
                size += len(block)
        expected = verified_sha256 if name == layout.INDEX else files[name]
        if strict and digest.hexdigest() != expected:
            raise InvalidInput(f"{name} changed after it was verified: build the site again")
        copied.append((name, size))
    return copied
