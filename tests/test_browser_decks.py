"""The lecture decks in a real browser: reveal.js starts, every slide the metadata promises is
there, the math is typeset, every image loads, nothing errs and nothing leaves this machine.

To stay cheap, every notebook's deck is built from the stored notebook (no outputs: enough
for structure, math and the offline check), and one small notebook (02_vae, smoke profile,
reusing cached checkpoints where ``make notebooks`` left them) is executed so that a deck
with real figures is checked too. Screenshots go to build/test-artifacts/.
"""

from __future__ import annotations

import json
import os

import pytest
from browser_support import ARTIFACTS, ROOT, StaticServer, Watched

from coursekit import slides

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXECUTED = ROOT / "notebooks" / "02_vae.ipynb"  # cheap in smoke, math and figures


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    """Every deck built unexecuted, plus the executed deck of EXECUTED, served locally."""
    out = tmp_path_factory.mktemp("decks")
    slides.build(NOTEBOOKS, out)
    executed = out / "executed"
    os.environ.setdefault("COURSEKIT_PROFILE", "smoke")
    slides.build([EXECUTED], executed, run=True, timeout=900)
    server = StaticServer(out)
    yield server
    server.close()


def open_deck(chromium, url):
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    watched = Watched(page)
    page.goto(url)
    page.wait_for_function(
        "window.Reveal && Reveal.isReady() && document.body.dataset.mathjax === 'done'",
        timeout=60_000)
    page.wait_for_load_state("load")
    return page, watched


def check_deck(page, watched, notebook):
    stored = json.loads(notebook.read_text(encoding="utf-8"))
    assert page.evaluate("Reveal.getTotalSlides()") == slides.slide_count(stored)
    text = page.evaluate("document.querySelector('.reveal .slides').textContent")
    assert "$$" not in text, "raw $$ left: MathJax did not typeset a display formula"
    has_math = any("$" in "".join(c["source"]) for c in stored["cells"]
                   if c["cell_type"] == "markdown")
    if has_math:
        assert page.evaluate("document.querySelectorAll('mjx-container').length") > 0
        assert page.evaluate("document.querySelectorAll('mjx-merror').length") == 0
    images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert all(done and width > 0 for done, width in images), images
    assert not watched.remote, f"requests left this machine: {watched.remote}"
    assert not watched.errors, f"console errors: {watched.errors}"
    return images


def screenshot(page, selector, name):
    """Show the first slide holding ``selector`` (or the second slide) and save it."""
    page.evaluate("""(selector) => {
        const hit = document.querySelector('.reveal .slides ' + selector);
        const slide = hit ? hit.closest('section') : Reveal.getSlides()[1];
        const {h, v} = Reveal.getIndices(slide); Reveal.slide(h, v);
    }""", selector)
    page.wait_for_timeout(900)  # the slide transition
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_deck_in_the_browser(chromium, decks, notebook):
    page, watched = open_deck(chromium, f"{decks.url}/{notebook.stem}.html")
    check_deck(page, watched, notebook)
    screenshot(page, "mjx-container[display]", f"deck-{notebook.stem}")
    page.close()


def test_executed_deck_shows_its_figures(chromium, decks):
    page, watched = open_deck(chromium, f"{decks.url}/executed/{EXECUTED.stem}.html")
    images = check_deck(page, watched, EXECUTED)
    assert len(images) >= 5, f"an executed {EXECUTED.stem} should show its figures: {images}"
    screenshot(page, ".jp-RenderedImage img", f"deck-{EXECUTED.stem}-executed")
    page.close()


def test_index_links_every_deck(chromium, decks):
    page = chromium.new_page()
    watched = Watched(page)
    page.goto(f"{decks.url}/index.html")
    links = page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
    assert links == [f"{p.stem}.html" for p in NOTEBOOKS]
    assert not watched.remote and not watched.errors
    page.close()


def test_speaker_notes_reach_the_deck(decks):
    """A cell tagged ``notes`` becomes reveal.js speaker notes (the ``s`` key shows them)."""
    noted = 0
    for notebook in NOTEBOOKS:
        stored = json.loads(notebook.read_text(encoding="utf-8"))
        built = (decks.folder / f"{notebook.stem}.html").read_text(encoding="utf-8")
        expected = slides.current(stored).count("notes")
        assert built.count('<aside class="notes">') == expected, notebook.name
        noted += expected
    assert noted, "no notebook has speaker notes"
