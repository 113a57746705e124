"""The explorer's map selector in a real browser, on a result holding every map (``--maps all``)
of the tiny random Whisper: each map draws its own pixels, colour bar and correlations.

Uses the ``browser`` fixture of ``conftest.py`` (headless Chromium; skipped without one unless
``S2T_REQUIRE_BROWSER=1``). Not marked slow: the random model makes it a few seconds.
"""

from __future__ import annotations

import pytest

import s2t_explain as s2t
from explorer.test_browser import canvas_hash, console, open_page, requests
from helpers import speechlike
from s2t_explain.explorer import utterance_page


@pytest.fixture(scope="module")
def every_map(tiny_whisper):
    saliency = s2t.SaliencyOptions(input=s2t.InputSaliencyOptions(n_masks=16, granularities=(20,), p_dec=0.5),
                                   encoder=s2t.EncoderSaliencyOptions(n_masks=16), batch_size=8)
    return s2t.explain(tiny_whisper, speechlike(1.0), maps="all", saliency=saliency, text="one two three four",
                       progress=False)


def test_the_map_selector_shows_every_map_with_its_own_colour_bar(browser, every_map, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    result = every_map
    assert list(result.maps) == s2t.list_maps()  # all nine, spes-token included (p_dec > 0)
    open_page(browser, utterance_page(result, tmp_path / "all.html"))
    assert console(browser) == [] and requests(browser) == []
    select = Select(browser.find_element(By.ID, "map-select"))
    assert [o.get_attribute("value") for o in select.options] == list(result.maps)
    over_time = [n for n, m in result.maps.items() if m.over_time]
    seen: dict[str, tuple[str, str, str]] = {}
    for name in result.maps:
        select.select_by_value(name)
        box = browser.find_element(By.ID, "chosen-panel")
        title = box.find_element(By.CSS_SELECTOR, ".title").text
        units = box.find_element(By.CSS_SELECTOR, ".cbar .units").text
        hi = box.find_element(By.CSS_SELECTOR, ".cbar .hi").text
        assert f"({name}, {result[name].grain})" in title and result[name].label in title, title
        assert units.startswith(result[name].units), (name, units)
        pairs = browser.find_elements(By.CSS_SELECTOR, "#map-corr b[data-map-pair]")
        if name in over_time:  # this token's r with every other map over time
            assert sorted(b.get_attribute("data-map-pair") for b in pairs) == sorted(set(over_time) - {name}), name
            assert all(b.text for b in pairs), name
        else:
            assert pairs == [] and "no time axis" in browser.find_element(By.ID, "map-corr").text
        seen[name] = (canvas_hash(browser, "chosen"), units, hi)
    pixels = [h for h, _, _ in seen.values()]
    assert len(set(pixels)) == len(pixels), "two maps drew the same pixels"
    # selecting another token redraws the chosen map's outline and its colour bar (that token's range)
    select.select_by_value("spes-encoder")
    before = canvas_hash(browser, "chosen")
    browser.find_elements(By.CSS_SELECTOR, "#chips .chip")[2].click()
    assert canvas_hash(browser, "chosen") != before
    assert console(browser) == []
