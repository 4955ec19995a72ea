"""The lecture decks in a real browser: reveal.js starts, every slide the metadata promises is
there, the math is typeset, every image loads, nothing errs and nothing leaves this machine.

To stay cheap, every notebook's deck is built from the stored notebook (no outputs: enough
for structure, math and the offline check); the deck of a notebook with its figures is
checked in test_browser_lab.py, from the notebook JupyterLab ran there.
Screenshots go to build/test-artifacts/.
"""

from __future__ import annotations

import json

import pytest
from browser_support import (
    ARTIFACTS,
    ROOT,
    StaticServer,
    Watched,
    check_deck,
    open_deck,
    screenshot,
)

from coursekit.tools import slides

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    """Every deck built from the stored notebook, served locally."""
    out = tmp_path_factory.mktemp("decks")
    slides.build(NOTEBOOKS, out)
    server = StaticServer(out)
    yield server
    server.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_deck_in_the_browser(chromium, decks, notebook):
    page, watched = open_deck(chromium, f"{decks.url}/{notebook.stem}.html")
    check_deck(page, watched, notebook)
    screenshot(page, "mjx-container[display]", f"deck-{notebook.stem}")
    page.close()


def test_index_links_every_deck(chromium, decks):
    page = chromium.new_page()
    watched = Watched(page)
    page.goto(f"{decks.url}/index.html")
    links = page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
    assert links == [f"{p.stem}.html" for p in NOTEBOOKS]
    assert not watched.remote and not watched.errors
    page.close()


def test_speaker_view_shows_the_notes(chromium, decks):
    """``s`` opens reveal.js's speaker view (a second window), offline, with the notes."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watched = Watched(page, context)  # the speaker window's requests are routed too
    page.goto(f"{decks.url}/01_autoencoders.html")
    page.wait_for_function("window.Reveal && Reveal.isReady()")
    page.evaluate("""() => {
        const notes = document.querySelector('.reveal .slides aside.notes');
        const {h, v} = Reveal.getIndices(notes.closest('section')); Reveal.slide(h, v);
    }""")
    with context.expect_page() as opened:
        page.keyboard.press("s")
    speaker = opened.value
    speaker_errors = []
    speaker.on("console", lambda m: m.type == "error" and speaker_errors.append(m.text))
    speaker.wait_for_function(
        "document.body.innerText.includes('Lecture notes')", timeout=30_000)
    speaker.screenshot(path=str(ARTIFACTS / "deck-01_autoencoders-speaker-view.png"))
    assert not watched.remote, watched.remote
    assert not (watched.errors or speaker_errors), watched.errors + speaker_errors
    context.close()


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
