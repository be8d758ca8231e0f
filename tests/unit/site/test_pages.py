"""The pages escape everything from the record, and ``degcore site`` refuses what it cannot write."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from degcore.ballot import Option
from degcore.cli import main
from degcore.site import MARKER
from degcore.site.charts import percent
from degcore.site.pages import PageData, render_page
from degcore.verify import Report
from tests.record_fixtures import manifest

EVIL = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_everything_from_the_record_is_escaped() -> None:
    base = manifest("ristretto255")
    contest = replace(
        base.contests[0], name=EVIL, options=(Option("m0", EVIL), *base.contests[0].options[1:])
    )
    evil = replace(base, name=EVIL, contests=(contest, *base.contests[1:]))
    report = Report(EVIL)
    report.check("V6").fail(EVIL, EVIL)
    report.check("V6").note = EVIL
    report.fingerprints = {EVIL: EVIL}
    report.finish()
    result = {"totals": {contest.contest_id: {"m0": 3}}, "ballots": {"a": 3}, "by_district": {}}
    for verified in (False, True):  # the failing report first: its failures carry the names
        if verified:
            report.checks["V6"] = type(report.checks["V6"])("V6", items=1)
        data = PageData(report, evil, result, {"a": 6}, documents=[(EVIL, 1)], lookup=verified)
        for lang in ("ru", "en"):
            page = render_page(data, lang)
            assert "<script>alert" not in page and "<img" not in page  # only as text: &lt;img
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
            assert page.count("<script") == (3 if verified else 0)  # texts, meta.js, lookup.js
            assert " on" + "click" not in page and "javascript:" not in page


def test_percentages_are_rounded_and_spelled_per_language() -> None:
    assert percent(1, 3, ",") == "33,3 %" and percent(2, 3, ".") == "66.7 %" and percent(0, 0, ".") == "—"


def test_degcore_site_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    record = tmp_path / "record"
    record.mkdir()
    assert main(["site", str(record), str(tmp_path / "out"), "--quiet"]) == 3  # not a record
    (record / "record.json").write_text("{}")
    assert main(["site", str(record), str(busy), "--quiet"]) == 2  # someone's folder
    assert main(["site", str(record), str(record / "site"), "--quiet"]) == 2  # inside the record
    assert main(["site", str(record), str(tmp_path), "--quiet"]) == 2  # holds the record
    assert (busy / "notes.txt").read_text() == "mine" and not (busy / MARKER).exists()


def test_the_demo_writes_its_site_and_says_how_to_open_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--voters", "3", "--out", "relative"]) == 0  # a relative folder, as typed
    page = tmp_path / "relative" / "site" / "index.html"
    assert page.is_file() and (page.parent / "en" / "index.html").is_file()
    assert f"open {page.as_uri()}" in capsys.readouterr().out
