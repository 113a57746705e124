"""The explorer in a real browser: headless Chromium (Debian ``chromium`` + ``chromium-driver``,
installed by ``.ci/run``) driven by Selenium with the system driver.

Without a browser these tests skip, unless ``S2T_REQUIRE_BROWSER=1`` (CI sets it), where a missing
browser fails. ``S2T_SCREENSHOTS=DIR`` keeps the screenshots (the README's images come from there).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import s2t_explain as s2t
from s2t_explain.explorer import study_pages, utterance_page
from s2t_explain.saliency.options import COARSE_GRANULARITIES

DATA = Path(s2t.__file__).parent / "data"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory, tiny_en):
    """The bundled demo clip explained by the bundled whisper-tiny.en (a small mask budget)."""
    saliency = s2t.SaliencyOptions(input=s2t.InputSaliencyOptions(n_masks=64, granularities=COARSE_GRANULARITIES),
                                   encoder=s2t.EncoderSaliencyOptions(n_masks=128), estimator="regression")
    audio = DATA / "audio" / "en_1.wav"
    result = s2t.explain(tiny_en, audio, saliency=saliency, progress=False)
    folder = tmp_path_factory.mktemp("explorer")
    return result, folder, audio


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_en):
    out = tmp_path_factory.mktemp("study") / "run"
    saliency = s2t.SaliencyOptions(input=s2t.InputSaliencyOptions(n_masks=32, granularities=COARSE_GRANULARITIES),
                                   encoder=s2t.EncoderSaliencyOptions(n_masks=64), estimator="regression")
    options = s2t.StudyOptions(saliency=saliency, faithfulness="logprob", curve_step=25)
    s2t.run_study(tiny_en, DATA / "eval" / "tiny.jsonl", out, options, limit=3, progress=False)
    return out


def open_page(driver, path: Path) -> None:
    driver.get_log("browser"), driver.get_log("performance")  # empty the logs of earlier pages
    driver.get(path.resolve().as_uri())
    deadline = time.time() + 20
    while driver.execute_script("return document.body.dataset.ready || ''") == "" and time.time() < deadline:
        time.sleep(0.1)
    assert driver.execute_script("return document.body.dataset.ready") == "true", console(driver)


def console(driver) -> list[str]:
    """Console errors and warnings (warnings count too: a clean page logs nothing)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def requests(driver) -> list[str]:
    """URLs the page asked for beyond itself and its inline data."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith(("data:", "file:", "blob:")):
                urls.append(url)
    return urls


def canvas_hash(driver, canvas_id: str) -> str:
    data = driver.execute_script(f"return document.getElementById('{canvas_id}').toDataURL('image/png')")
    return hashlib.sha1(data.encode()).hexdigest()


def screenshot(driver, name: str, full: bool = True, keep: bool = True) -> bytes:
    """A screenshot of the page (whole height), checked not blank; with ``keep``, saved under
    S2T_SCREENSHOTS."""
    from PIL import Image

    if full:
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, min(height + 120, 4000))
    driver.execute_script("window.scrollTo(0, 0)")
    png = driver.get_screenshot_as_png()
    driver.set_window_size(1280, 1000)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(1 << 24)
    assert colours is not None and len(colours) > 200, f"{name}: the screenshot is blank"
    if keep and os.environ.get("S2T_SCREENSHOTS"):
        folder = Path(os.environ["S2T_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / name, optimize=True)
    return png


@pytest.mark.golden  # the explorer on the real model: in the default run
def test_utterance_explorer(browser, demo):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    result, folder, audio = demo
    page = utterance_page(result, folder / "en_1.html", audio=audio)
    open_page(browser, page)
    assert console(browser) == [] and requests(browser) == []
    chips = browser.find_elements(By.CSS_SELECTOR, "#chips .chip")
    assert [c.find_element(By.CSS_SELECTOR, ".t").text.strip() for c in chips] == \
        [t.strip() for t in np.array(result.transcript.labels)[result.text_rows()]]
    assert browser.find_element(By.TAG_NAME, "audio").get_attribute("src").startswith("data:audio/")
    before = {c: canvas_hash(browser, c) for c in ("input", "encoder", "attention", "spectrogram")}
    r_before = browser.find_element(By.CSS_SELECTOR, "#corr").text
    chips[3].click()
    assert chips[3].get_attribute("aria-pressed") == "true" and chips[0].get_attribute("aria-pressed") == "false"
    after = {c: canvas_hash(browser, c) for c in before}
    assert all(after[c] != before[c] for c in ("input", "encoder", "attention")), "maps did not change"
    assert browser.find_element(By.CSS_SELECTOR, "#corr").text != r_before
    # the aggregation selector changes the cross-attention panel (and the token's correlations)
    attention = canvas_hash(browser, "attention")
    Select(browser.find_element(By.ID, "aggregation")).select_by_value("layer:0")
    assert canvas_hash(browser, "attention") != attention
    browser.find_element(By.CSS_SELECTOR, "#grid td[data-l='1'][data-h='2']").click()
    assert Select(browser.find_element(By.ID, "aggregation")).first_selected_option.text == "layer 2, head 3"
    # keyboard: the right arrow selects the next token
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert chips[4].get_attribute("aria-pressed") == "true"
    # play the token's span: the audio moves to the word's start
    browser.find_element(By.ID, "play-token").click()
    time.sleep(0.3)
    start = browser.execute_script("return document.getElementById('audio').currentTime")
    assert start >= 0.5, start  # token 4 is well into the clip
    assert console(browser) == [] and requests(browser) == []
    screenshot(browser, "explorer-utterance.png")


@pytest.mark.golden
@pytest.mark.parametrize("case,note", [
    ("attention-only", "cross-attention only"),
    ("encoder-only", "no input saliency"),
    ("one-token", "One token"),
])
def test_degenerate_results_render_with_a_message(browser, demo, case, note):
    from selenium.webdriver.common.by import By

    result, folder, _ = demo
    if case == "attention-only":
        shown = replace(result, maps={"attention": result["attention"]})
    elif case == "encoder-only":
        shown = replace(result, maps={n: result[n] for n in ("attention", "spes-encoder")})
    else:  # keep the prompt, the first text token and end-of-text
        keep = np.flatnonzero(result.transcript.special | (np.cumsum(result.text_rows()) == 1) & result.text_rows())
        t = result.transcript
        transcript = replace(t, ids=[t.ids[0], *[t.ids[i + 1] for i in keep]], labels=[t.labels[i] for i in keep],
                             special=t.special[keep], logprobs=t.logprobs[keep])
        shown = replace(result, transcript=transcript,
                        maps={n: m.take_rows(keep) for n, m in result.maps.items() if m.grain != "token"})
    page = utterance_page(shown, folder / f"{case}.html")
    open_page(browser, page)
    notes = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, "#notes .note"))
    assert note in notes
    assert console(browser) == [] and requests(browser) == []
    if case == "attention-only":
        assert "no saliency" in browser.find_element(By.ID, "corr").text
        assert not browser.find_elements(By.ID, "input")
    screenshot(browser, f"explorer-{case}.png", full=False, keep=False)


def test_study_explorer_and_its_utterance_links(browser, run):
    from selenium.webdriver.common.by import By

    page = study_pages(run)
    open_page(browser, page)
    assert console(browser) == [] and requests(browser) == []
    ids = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#utterances td a")]
    assert ids == ["en_01", "en_02", "en_03"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure img")) >= 3
    titles = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
    assert "The paper's trends on this run" in titles
    # sorting: click a numeric column and its values ascend; again and they descend
    headers = browser.find_elements(By.CSS_SELECTOR, "#utterances th")
    column = [th.text for th in headers].index("duration (s)")

    def durations():
        return [float(tr.find_elements(By.TAG_NAME, "td")[column].text)
                for tr in browser.find_elements(By.CSS_SELECTOR, "#utterances tbody tr")]

    headers[column].click()
    ascending = durations()
    headers[column].click()
    assert ascending == sorted(ascending) and durations() == sorted(ascending, reverse=True)
    assert len(set(ascending)) == 3  # distinct, so the order is checked
    screenshot(browser, "explorer-study.png")
    # an utterance link opens that utterance's explorer, which links back
    browser.find_element(By.LINK_TEXT, "en_02").click()
    open_page_loaded = browser.current_url.endswith("pages/en_02.html")
    assert open_page_loaded, browser.current_url
    deadline = time.time() + 20
    while browser.execute_script("return document.body.dataset.ready || ''") == "" and time.time() < deadline:
        time.sleep(0.1)
    assert browser.execute_script("return document.body.dataset.ready") == "true"
    assert browser.find_elements(By.CSS_SELECTOR, "#chips .chip")
    assert browser.find_element(By.ID, "back").get_attribute("href").endswith("report.html")
    assert console(browser) == [] and requests(browser) == []


HOSTILE = "<!--<script>window.pwned=1</script><img src=x onerror=window.pwned=2>&amp;\u2028"


def test_hostile_strings_in_every_user_field_render_as_text(browser, demo, run, tmp_path):
    """Forced text, file name, id, reference, hypothesis and failure reason holding markup: the pages
    load, show the strings as text, and no injected script runs (issue 18: ``<!--<script`` blanked
    the page when only ``</`` was escaped)."""
    from selenium.webdriver.common.by import By

    result, _, audio = demo
    t = result.transcript
    rows = np.flatnonzero(result.text_rows())
    labels = [f" {HOSTILE}" if i == rows[1] else label for i, label in enumerate(t.labels)]
    named = tmp_path / f"{HOSTILE[:12]}.wav"  # an audio file whose name holds markup ("<!--<script>.wav")
    shutil.copy(audio, named)
    shown = replace(result, transcript=replace(t, labels=labels, text=HOSTILE), audio=str(named))
    page = utterance_page(shown, tmp_path / "hostile.html")
    open_page(browser, page)
    chips = browser.find_elements(By.CSS_SELECTOR, "#chips .chip")
    assert chips[1].find_element(By.CSS_SELECTOR, ".t").text.strip() == HOSTILE.replace("\u2028", "").strip()
    assert browser.execute_script("return window.pwned") is None
    assert browser.find_element(By.TAG_NAME, "audio").get_attribute("src").startswith("data:audio/")
    assert HOSTILE[:12] in browser.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    assert console(browser) == [] and requests(browser) == []
    # the study page: a record's id-free fields and a failure's id and reason hold markup
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    record_path = copy / "results" / "en_01.json"
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**record, "hypothesis": HOSTILE, "reference": HOSTILE}))
    (copy / "failures" / "_line-9.json").write_text(json.dumps({"id": HOSTILE, "line": 9, "reason": HOSTILE}))
    open_page(browser, study_pages(copy, figures=False))
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "td")]
    assert sum(HOSTILE.split("\u2028")[0] in c for c in cells) >= 3  # hypothesis, failure id and reason
    assert browser.execute_script("return window.pwned") is None
    assert console(browser) == [] and requests(browser) == []
