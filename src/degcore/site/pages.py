"""The site's HTML pages: one per language, everything from the record escaped (docs/site.md).

The record is untrusted input: every name, id, note and failure reason goes through
:func:`html.escape`; links to the record's files are percent-encoded. The pages carry no inline
script and no inline event handler: the lookup is ``assets/lookup.js``, its configuration
``lookup/meta.js`` and its messages a JSON data block (not executed). A Content-Security-Policy
allows scripts and styles from the site's own files only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import cast
from urllib.parse import quote

from degcore import __version__
from degcore.ballot import Manifest
from degcore.encoding import to_rfc3339
from degcore.site.charts import Bar, bar_chart
from degcore.site.texts import CHECK_TITLES_RU, TEXTS
from degcore.verify.report import CATALOGUE, Outcome, Report

__all__ = ["PageData", "render_page"]

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none';"
    " base-uri 'none'; form-action 'none'"
)


@dataclass(frozen=True, slots=True)
class PageData:
    """What a page shows: the report, and for a verified record its manifest, result and list counts."""

    report: Report
    manifest: Manifest | None = None
    result: Mapping[str, object] | None = None
    #: Remote-list voters per ballot style (the setup's counts).
    remote: Mapping[str, int] = field(default_factory=dict)
    #: The record's files as copied into ``record/``: (name, bytes).
    documents: Sequence[tuple[str, int]] = ()
    lookup: bool = False
    record_name: str = "record"


def _t(lang: str, key: str) -> str:
    return str(TEXTS[lang][key])


def render_page(data: PageData, lang: str) -> str:
    """The page in ``lang`` (``ru`` at the site's root, ``en`` in ``en/``)."""
    root = "" if lang == "ru" else "../"
    text = TEXTS[lang]
    other_href, other_name = cast(tuple[str, str], text["other"])
    report = data.report
    title = _t(lang, "title")
    if data.manifest is not None:
        title = f"{title}: {data.manifest.name}"
    body: list[str] = [
        f'<nav class="lang"><a href="{other_href}" hreflang="{"en" if lang == "ru" else "ru"}">'
        f"{escape(other_name)}</a></nav>",
        f"<h1>{escape(title)}</h1>",
    ]
    body += _verdict(report, lang)
    if report.ok and data.manifest is not None and data.result is not None:
        body += _election(data.manifest, lang)
        body += _results(data.manifest, data.result, lang)
        body += _turnout(data.manifest, data.result, data.remote, lang)
        body += _districts(data.manifest, data.result, lang)
    body += _lookup(data.lookup, lang)
    body += _checks(report, lang)
    body += _keys(report, lang)
    body += _documents(data.documents, root, lang)
    body += _howto(report, data.record_name, lang)
    body.append(
        f"<footer>{escape(_t(lang, 'generated'))} degcore {escape(__version__)} (degcore site)</footer>"
    )
    texts = json.dumps(text["lookup_texts"], ensure_ascii=False).replace("<", "\\u003c")
    scripts = ""
    if data.lookup:
        scripts = (
            f'<script id="lookup-texts" type="application/json">{texts}</script>\n'
            f'<script src="{root}lookup/meta.js"></script>\n'
            f'<script src="{root}assets/lookup.js"></script>\n'
        )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f'<link rel="stylesheet" href="{root}assets/site.css">\n</head>\n'
        f'<body data-root="{root}" data-verified="{"yes" if report.ok else "no"}">\n<main>\n'
        + "\n".join(body)
        + f"\n</main>\n{scripts}</body>\n</html>\n"
    )


def _verdict(report: Report, lang: str) -> list[str]:
    if report.ok:
        return [
            f'<section id="verdict" class="ok"><h2>{escape(_t(lang, "verified"))}</h2>'
            f"<p>{escape(_t(lang, 'verified_note'))}</p></section>"
        ]
    failing = [c for c in CATALOGUE if report.check(c).outcome in {Outcome.FAIL, Outcome.ERROR}]
    items = "".join(f"<li>{escape(c)}: {escape(_title(c, lang))}</li>" for c in failing)
    return [
        f'<section id="verdict" class="failed"><h2>{escape(_t(lang, "failed"))}</h2>'
        f"<p>{escape(_t(lang, 'failed_note'))}</p><ul>{items}</ul></section>"
    ]


def _title(check_id: str, lang: str) -> str:
    return CHECK_TITLES_RU[check_id] if lang == "ru" else CATALOGUE[check_id]


def _election(manifest: Manifest, lang: str) -> list[str]:
    window = f"{to_rfc3339(manifest.voting_starts)} — {to_rfc3339(manifest.voting_ends)}"
    return [
        '<section id="election"><dl>'
        f"<dt>{escape(_t(lang, 'election'))}</dt><dd>{escape(manifest.name)}"
        f" (<code>{escape(manifest.election_id)}</code>)</dd>"
        f"<dt>{escape(_t(lang, 'window'))}</dt><dd>{escape(window)}"
        f" ({escape(manifest.time_zone)})</dd></dl></section>"
    ]


def _counts(obj: object, *keys: str) -> dict[str, int]:
    for key in keys:
        obj = obj.get(key, {}) if isinstance(obj, Mapping) else {}
    if not isinstance(obj, Mapping):
        return {}
    return {str(k): v for k, v in obj.items() if type(v) is int}


def _contest_block(manifest: Manifest, contest_id: str, counts: Mapping[str, int], lang: str, h: str) -> str:
    contest = manifest.contest(contest_id)
    decimal = _t(lang, "decimal")
    total = sum(counts.get(o.option_id, 0) for o in contest.options)
    options = sorted(contest.options, key=lambda o: -counts.get(o.option_id, 0))
    bars = [Bar(o.name, counts.get(o.option_id, 0), total) for o in options]
    rows = "".join(
        f'<tr data-option="{escape(o.option_id)}"><td>{escape(o.name)}</td>'
        f'<td class="n">{counts.get(o.option_id, 0)}</td></tr>'
        for o in options
    )
    return (
        f'<div class="contest" data-contest="{escape(contest_id)}"><{h}>{escape(contest.name)}</{h}>'
        f'<p class="total">{total} {escape(_t(lang, "votes_in"))}</p>'
        f"{bar_chart(contest.name, bars, decimal)}"
        f'<table class="counts"><thead><tr><th>{escape(_t(lang, "option"))}</th>'
        f"<th>{escape(_t(lang, 'votes'))}</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _results(manifest: Manifest, result: Mapping[str, object], lang: str) -> list[str]:
    out = [f'<section id="result"><h2>{escape(_t(lang, "result"))}</h2>']
    for contest in manifest.contests:
        counts = _counts(result, "totals", contest.contest_id)
        out.append(_contest_block(manifest, contest.contest_id, counts, lang, "h3"))
    out.append("</section>")
    return out


def _turnout(
    manifest: Manifest, result: Mapping[str, object], remote: Mapping[str, int], lang: str
) -> list[str]:
    ballots = _counts(result, "ballots")
    bars: list[Bar] = []
    named = set()
    for district in manifest.districts:
        sharing = [d for d in manifest.districts if d.style_id == district.style_id]
        if len(sharing) == 1:
            named.add(district.style_id)
            style = district.style_id
            bars.append(Bar(district.name, ballots.get(style, 0), remote.get(style, 0)))
    for ballot_style in manifest.styles:  # styles with no district of their own, or shared by several
        if (style_id := ballot_style.style_id) not in named:
            bars.append(Bar(style_id, ballots.get(style_id, 0), remote.get(style_id, 0)))
    bars.append(Bar(_t(lang, "total"), sum(ballots.values()), sum(remote.values())))
    title = _t(lang, "turnout")
    return [
        f'<section id="turnout"><h2>{escape(title)}</h2>'
        f"{bar_chart(title, bars, _t(lang, 'decimal'), outline=True)}</section>"
    ]


def _districts(manifest: Manifest, result: Mapping[str, object], lang: str) -> list[str]:
    by_district = result.get("by_district")
    if not isinstance(by_district, Mapping) or not by_district:
        return []
    out = [f'<section id="districts"><h2>{escape(_t(lang, "by_district"))}</h2>']
    names = {d.district_id: d.name for d in manifest.districts}
    known = {c.contest_id for c in manifest.contests}
    for district_id, contests in sorted(by_district.items()):
        if district_id not in names or not isinstance(contests, Mapping):
            continue
        out.append(f'<div class="district" data-district="{escape(district_id)}">')
        out.append(f"<h3>{escape(names[district_id])}</h3>")
        for contest_id in sorted(contests):
            if contest_id in known:
                counts = _counts(contests, contest_id)
                out.append(_contest_block(manifest, contest_id, counts, lang, "h4"))
        out.append("</div>")
    out.append("</section>")
    return out


def _lookup(offered: bool, lang: str) -> list[str]:
    head = f'<section id="lookup"><h2>{escape(_t(lang, "lookup"))}</h2>'
    if not offered:
        return [f'{head}<p class="note">{escape(_t(lang, "no_lookup"))}</p></section>']
    return [
        head,
        f'<noscript><p class="note">{escape(_t(lang, "noscript"))}</p></noscript>',
        f'<form id="code-form" class="lookup" hidden><h3>{escape(_t(lang, "by_code"))}</h3>'
        f'<label for="code-input">{escape(_t(lang, "code_label"))}</label>'
        '<input id="code-input" name="code" autocomplete="off" spellcheck="false" maxlength="80">'
        f'<button type="submit" id="code-button">{escape(_t(lang, "find"))}</button>'
        '<output id="code-result" aria-live="polite"></output></form>',
        f'<form id="receipt-form" class="lookup" hidden><h3>{escape(_t(lang, "by_receipt"))}</h3>'
        f'<label for="receipt-input">{escape(_t(lang, "receipt_label"))}</label>'
        '<textarea id="receipt-input" rows="6" spellcheck="false"></textarea>'
        '<input type="file" id="receipt-file" accept=".json,application/json">'
        f'<button type="submit" id="receipt-button">{escape(_t(lang, "check_receipt"))}</button>'
        '<output id="receipt-result" aria-live="polite"></output></form>',
        "</section>",
    ]


def _checks(report: Report, lang: str) -> list[str]:
    outcomes = cast(dict[str, str], TEXTS[lang]["outcomes"])
    rows = []
    for check_id in CATALOGUE:
        check = report.check(check_id)
        detail = ""
        if check.note:
            detail += f'<div class="note">{escape(check.note)}</div>'
        if check.failures:
            items = "".join(
                f"<li><code>{escape(item)}</code>: {escape(reason)}</li>" for item, reason in check.failures
            )
            more = check.failure_count - len(check.failures)
            detail += f"<ul>{items}{f'<li>… +{more}</li>' if more > 0 else ''}</ul>"
        rows.append(
            f'<tr id="check-{check_id}" class="{check.outcome}" data-outcome="{check.outcome}">'
            f"<td>{check_id}</td><td>{escape(_title(check_id, lang))}{detail}</td>"
            f"<td>{escape(outcomes[str(check.outcome)])}</td>"
            f'<td class="n">{check.items}</td><td class="n">{check.failure_count}</td></tr>'
        )
    head = "<th>#</th>" + "".join(
        f"<th>{escape(_t(lang, k))}</th>" for k in ("check", "outcome", "items", "failures")
    )
    return [
        f'<section id="checks"><h2>{escape(_t(lang, "checks"))}</h2>'
        f'<table class="checks"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        "</section>"
    ]


def _keys(report: Report, lang: str) -> list[str]:
    rows = "".join(
        f'<tr><td><code>{escape(role)}</code></td><td><code class="hash">{escape(value)}</code></td></tr>'
        for role, value in report.fingerprints.items()
    )
    sha = escape(report.record_sha256 or "—")
    return [
        f'<section id="keys"><h2>{escape(_t(lang, "keys"))}</h2>'
        f'<p>{escape(_t(lang, "record_sha"))}: <code id="record-sha256" class="hash">{sha}</code></p>'
        f'<table class="keys"><thead><tr><th>{escape(_t(lang, "role"))}</th>'
        f"<th>{escape(_t(lang, 'fingerprint'))}</th></tr></thead><tbody>{rows}</tbody></table></section>"
    ]


def _documents(documents: Sequence[tuple[str, int]], root: str, lang: str) -> list[str]:
    if not documents:
        return []
    rows = "".join(
        f'<tr><td><a href="{root}record/{escape(quote(name))}" download>{escape(name)}</a></td>'
        f'<td class="n">{size}</td></tr>'
        for name, size in documents
    )
    return [
        f'<section id="documents"><h2>{escape(_t(lang, "documents"))}</h2>'
        f"<p>{escape(_t(lang, 'documents_note'))}</p>"
        f'<table class="documents"><thead><tr><th>{escape(_t(lang, "file"))}</th>'
        f"<th>{escape(_t(lang, 'bytes'))}</th></tr></thead><tbody>{rows}</tbody></table></section>"
    ]


def _howto(report: Report, record_name: str, lang: str) -> list[str]:
    sha = report.record_sha256 or "SHA256"
    commands = (
        "python3 -m pip install degcore\n"
        f"degcore verify {record_name} --expect-sha256 {sha}\n"
        f"degcore result {record_name}"
    )
    voter = f"degcore verify {record_name} --receipt receipt.json\ndegcore find {record_name} TRACKING_CODE"
    return [
        f'<section id="howto"><h2>{escape(_t(lang, "howto"))}</h2>'
        f"<p>{escape(_t(lang, 'howto_text'))}</p><pre><code>{escape(commands)}</code></pre>"
        f"<p>{escape(_t(lang, 'howto_receipt'))}</p><pre><code>{escape(voter)}</code></pre></section>"
    ]
