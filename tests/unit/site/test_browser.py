"""The site in a real headless Chromium (Debian's chromium and chromium-driver, through selenium).

Each page is opened from disk (``file://``) as a voter would open a downloaded site: the result
must be the record's, the lookup must find a demo voter's ballot as counted and the challenged
ballot of the test record as challenged, an unknown code as absent, accept a valid receipt and
refuse one with a forged signature. A screenshot of every page is saved under the test's
temporary folder (``screenshots/``). Chromium's profile and temporary files go to the test's
temporary folder too, and the browser and its driver are closed at the end of the module.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from degcore.cli import main
from degcore.demo import run_demo
from degcore.encoding import canonical_json
from degcore.errors import InvalidInput
from degcore.parallel import SERIAL
from degcore.record import layout
from degcore.site import build_site
from degcore.verify import verify_record
from degcore.verify.receipts import BallotStatus, find_ballot
from tests.record_fixtures import BOX_KEY, Built, build_record, edit_json

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("site")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """One headless Chromium for the module; its profile and temporary files in a temporary folder.

    A short one: Chromium's singleton socket lives in its TMPDIR, and a socket's path is limited
    to 107 bytes.
    """
    scratch = tmp_path_factory.mktemp("cr")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the tests may run as root (CI containers)
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--user-data-dir={scratch / 'profile'}",
        f"--disk-cache-dir={scratch / 'cache'}",
        "--window-size=1100,900",
    ):
        options.add_argument(argument)
    environment = dict(os.environ, TMPDIR=str(scratch), HOME=str(scratch))
    service = Service(executable_path=CHROMEDRIVER, env=environment, log_output=str(scratch / "driver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()
        process = service.process
        assert process is None or process.poll() is not None, "chromedriver is still running"


@pytest.fixture(scope="module")
def screenshots(work: Path) -> Path:
    folder = work / "screenshots"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def demo(work: Path) -> Path:
    """``degcore demo``'s folder: its record, its receipts and the site it wrote beside them."""
    summary = run_demo(work / "demo", 16)
    assert summary.site == work / "demo" / "site"
    return work / "demo"


@pytest.fixture(scope="module")
def built(work: Path) -> Built:
    """The test record: eight counted ballots and one challenged (its receipt is the last)."""
    (work / "election").mkdir()
    built = build_record(work / "election")
    site = build_site(built.root, work / "election-site")
    assert site.verified and site.lookup is not None and site.lookup.challenged == 1
    return built


def _open(driver: WebDriver, page: Path) -> None:
    driver.get(page.as_uri())
    if driver.find_element("tag name", "body").get_attribute("data-verified") == "yes":
        WebDriverWait(driver, 10).until(
            lambda d: d.find_element("tag name", "body").get_attribute("data-lookup") == "ready"
        )


def _screenshot(driver: WebDriver, folder: Path, name: str) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1100, min(int(height) + 100, 8000))
    driver.save_screenshot(str(folder / f"{name}.png"))
    driver.set_window_size(1100, 900)
    assert (folder / f"{name}.png").stat().st_size > 10_000


def _section_screenshot(driver: WebDriver, folder: Path, name: str, section: str = "lookup") -> None:
    element = driver.find_element("id", section)
    driver.set_window_size(1100, int(element.size["height"]) + 300)
    driver.execute_script("arguments[0].scrollIntoView()", element)
    element.screenshot(str(folder / f"{name}.png"))
    driver.set_window_size(1100, 900)
    assert (folder / f"{name}.png").stat().st_size > 5_000


def _answer(driver: WebDriver, output: str) -> tuple[str, str]:
    element = driver.find_element("id", output)
    WebDriverWait(driver, 10).until(
        lambda d: element.get_attribute("data-outcome") not in (None, "", "loading")
    )
    return str(element.get_attribute("data-outcome")), element.text


def _find(driver: WebDriver, code: str) -> tuple[str, str]:
    driver.execute_script("document.getElementById('code-result').removeAttribute('data-outcome')")
    field = driver.find_element("id", "code-input")
    field.clear()
    field.send_keys(code)
    driver.find_element("id", "code-button").click()
    return _answer(driver, "code-result")


def _check(driver: WebDriver, receipt: str) -> tuple[str, str]:
    driver.execute_script(
        "document.getElementById('receipt-result').removeAttribute('data-outcome');"
        "document.getElementById('receipt-input').value = arguments[0];",
        receipt,
    )
    driver.find_element("id", "receipt-button").click()
    return _answer(driver, "receipt-result")


def test_the_result_shown_is_the_records(
    browser: WebDriver, built: Built, work: Path, screenshots: Path
) -> None:
    result = json.loads((built.root / layout.RESULT).read_bytes())
    for page, name in (
        (work / "election-site" / "index.html", "ru"),
        (work / "election-site/en/index.html", "en"),
    ):
        _open(browser, page)
        assert browser.find_element("id", "verdict").get_attribute("class") == "ok"
        for contest, counts in result["totals"].items():
            block = browser.find_element("css selector", f'#result [data-contest="{contest}"]')
            shown = {
                row.get_attribute("data-option"): int(row.find_element("css selector", "td.n").text)
                for row in block.find_elements("css selector", "tr[data-option]")
            }
            assert shown == counts
        assert browser.find_element("id", "record-sha256").text == built_sha(built)
        assert browser.find_elements("css selector", "#turnout svg.chart")
        assert browser.find_elements("css selector", "#districts svg.chart") or not result["by_district"]
        assert all(
            row.get_attribute("data-outcome") in ("pass", "skip")
            for row in browser.find_elements("css selector", "#checks tr[data-outcome]")
        )
        _screenshot(browser, screenshots, f"test-record-{name}")


def built_sha(built: Built) -> str:
    import hashlib  # noqa: PLC0415

    return hashlib.sha256((built.root / layout.INDEX).read_bytes()).hexdigest()


def test_a_demo_voters_tracking_code_is_found_counted(
    browser: WebDriver, demo: Path, screenshots: Path
) -> None:
    receipts = sorted((demo / "receipts").glob("*.json"))
    assert receipts
    for page, name in ((demo / "site" / "index.html", "ru"), (demo / "site" / "en" / "index.html", "en")):
        _open(browser, page)
        _screenshot(browser, screenshots, f"demo-{name}")
        for path in receipts:
            position = json.loads(path.read_bytes())["position"]
            outcome, text = _find(browser, path.stem.upper() + "  ")  # as typed: case and spaces forgiven
            assert outcome == "counted" and str(position) in text
        _section_screenshot(browser, screenshots, f"demo-lookup-{name}")


def test_the_challenged_ballot_is_found_challenged(browser: WebDriver, built: Built, work: Path) -> None:
    challenge = built.receipts[-1]
    assert find_ballot(built.root, challenge.tracking_code).status is BallotStatus.CHALLENGED
    _open(browser, work / "election-site" / "index.html")
    outcome, text = _find(browser, challenge.tracking_code)
    assert outcome == "challenged" and str(challenge.position) in text
    outcome, _ = _find(browser, built.receipts[0].tracking_code)
    assert outcome == "counted"


def test_an_unknown_code_is_not_there(browser: WebDriver, built: Built, work: Path) -> None:
    _open(browser, work / "election-site" / "index.html")
    assert _find(browser, secrets.token_hex(32))[0] == "not-found"
    assert _find(browser, "not a tracking code")[0] == "invalid"
    assert _find(browser, "ab" * 31)[0] == "invalid"


def test_a_valid_receipt_is_accepted(browser: WebDriver, demo: Path, screenshots: Path) -> None:
    path = sorted((demo / "receipts").glob("*.json"))[0]
    _open(browser, demo / "site" / "en" / "index.html")
    outcome, text = _check(browser, path.read_text())
    assert outcome == "accepted" and "verifies" in text
    assert browser.find_element("id", "receipt-result").get_attribute("data-status") == "counted"
    # Opening the file puts it in the box, as pasting does.
    browser.find_element("id", "receipt-input").clear()
    browser.find_element("id", "receipt-file").send_keys(str(path))
    WebDriverWait(browser, 10).until(lambda d: d.find_element("id", "receipt-input").get_attribute("value"))
    browser.execute_script("document.getElementById('receipt-result').removeAttribute('data-outcome')")
    browser.find_element("id", "receipt-button").click()
    assert _answer(browser, "receipt-result")[0] == "accepted"
    _section_screenshot(browser, screenshots, "demo-receipt-en")


def test_a_receipt_with_a_forged_signature_is_refused(browser: WebDriver, built: Built, work: Path) -> None:
    receipt = built.receipts[0].to_json()
    _open(browser, work / "election-site" / "index.html")
    signature = str(receipt["box_signature"])
    forged = {**receipt, "box_signature": ("0" if signature[0] != "0" else "1") + signature[1:]}
    outcome, text = _check(browser, canonical_json(forged).decode())
    assert outcome == "refused" and "НЕ ВЕРНА" in text
    # A position changed after signing: the signature no longer holds either.
    moved = {**receipt, "position": int(str(receipt["position"])) + 1}
    assert _check(browser, json.dumps(moved))[0] == "refused"
    # Signed by the box itself, but naming another entry: the log does not hold it there.
    other = built.receipts[1]
    lying = replace(built.receipts[0], position=other.position, entry_hash=other.entry_hash)
    lying = replace(lying, box_signature=BOX_KEY.sign(lying.digest()).signature)
    assert _check(browser, json.dumps(lying.to_json()))[0] == "mismatch"
    # Not a receipt at all, or of another election.
    assert _check(browser, '{"type": "receipt"}')[0] == "invalid"
    assert _check(browser, json.dumps({**receipt, "election": "00" * 32}))[0] == "refused"
    assert _check(browser, json.dumps(built.receipts[0].to_json()))[0] == "accepted"


def test_a_browser_without_ed25519_says_it_did_not_check(
    browser: WebDriver, built: Built, work: Path
) -> None:
    _open(browser, work / "election-site" / "index.html")
    browser.execute_script(
        "crypto.subtle.importKey = function () {"
        " return Promise.reject(new DOMException('no Ed25519', 'NotSupportedError')); };"
    )
    outcome, text = _check(browser, json.dumps(built.receipts[0].to_json()))
    assert outcome == "unchecked" and "Ed25519" in text


def test_a_record_that_does_not_verify_gets_no_result(
    browser: WebDriver, built: Built, work: Path, screenshots: Path
) -> None:
    tampered = work / "tampered"
    shutil.copytree(built.root, tampered)

    def add_a_vote(result: dict) -> None:  # type: ignore[type-arg]
        result["totals"]["mayor"]["m0"] += 1

    edit_json(tampered, layout.RESULT, add_a_vote)
    out = work / "tampered-site"
    assert main(["site", str(tampered), str(out), "--workers", "1", "--quiet"]) == 1
    for page, name in ((out / "index.html", "ru"), (out / "en" / "index.html", "en")):
        _open(browser, page)
        assert browser.find_element("id", "verdict").get_attribute("class") == "failed"
        assert not browser.find_elements("id", "result") and not browser.find_elements("id", "code-form")
        assert browser.find_element("id", "check-V11").get_attribute("data-outcome") == "fail"
        _screenshot(browser, screenshots, f"failing-{name}")
    assert not (out / "lookup").exists()
    assert (out / "record" / layout.RESULT).read_bytes() == (tampered / layout.RESULT).read_bytes()


def test_a_file_changed_after_verification_stops_the_site(built: Built, work: Path) -> None:
    copy = work / "changing"
    shutil.copytree(built.root, copy)
    report = verify_record(copy, executor=SERIAL)
    assert report.ok
    (copy / layout.RESULT).write_bytes((copy / layout.RESULT).read_bytes().replace(b'"m0":', b'"m0": '))
    with pytest.raises(InvalidInput, match="changed after it was verified"):
        build_site(copy, work / "changing-site", report=report)
    assert not (work / "changing-site").exists() and not (work / ".changing-site.building").exists()
