"""The lecture decks in a real browser: reveal.js starts, every slide the metadata promises is
there, the math is typeset, every image loads, nothing errs and nothing leaves this machine;
the speaker view (``s``) opens with the notes; at a projector's 1280×720 no slide is taller
than the screen; and each code cell tagged ``show-code`` is on its slide, highlighted.

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
    open_at,
    open_deck,
    screenshot,
    slides_taller_than_the_screen,
)

from coursekit.tools import exercises, slides

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


def _first_notes_phrase(notebook) -> str:
    """A run of plain words (no markup, no math) from the notebook's first notes cell: what
    the speaker view must show."""
    import re

    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    notes = next("".join(c["source"]) for c in cells if "notes" in c["metadata"].get("tags", []))
    return re.search(r"[A-Za-z][A-Za-z ,']{24,}", re.sub(r"\$[^$]*\$", "$", notes)).group(0)


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
    speaker.wait_for_function("phrase => document.body.innerText.includes(phrase)",
                              arg=_first_notes_phrase(ROOT / "notebooks" / "01_autoencoders.ipynb"),
                              timeout=30_000)
    speaker.screenshot(path=str(ARTIFACTS / "deck-01_autoencoders-speaker-view.png"))
    assert not watched.remote, watched.remote
    assert not (watched.errors or speaker_errors), watched.errors + speaker_errors
    context.close()


def test_speaker_notes_reach_the_deck(decks):
    """A cell tagged ``notes`` becomes reveal.js speaker notes (the ``s`` key shows them), and
    so does each exercise's worked solution (solutions/), for the instructor."""
    noted = 0
    for notebook in NOTEBOOKS:
        stored = json.loads(notebook.read_text(encoding="utf-8"))
        built = (decks.folder / f"{notebook.stem}.html").read_text(encoding="utf-8")
        solved = len(exercises.solutions_of(notebook.stem))
        expected = slides.current(stored).count("notes") + solved
        assert built.count('<aside class="notes">') == expected, notebook.name
        assert built.count("Solution of exercise") == solved, notebook.name
        noted += expected
    assert noted, "no notebook has speaker notes"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_slide_is_taller_than_the_screen(chromium, decks, notebook):
    """Every slide, shown at 1280×720, fits the screen: its content is no taller than the
    slide (a taller one would scroll: the deck's CSS lets it, rather than cut it off)."""
    page = open_at(chromium, f"{decks.url}/{notebook.stem}.html")
    tall = slides_taller_than_the_screen(page)
    page.close()
    assert not tall, f"slides taller than the screen in {notebook.name}: {tall}"


SHOWN = [(path, i) for path in NOTEBOOKS
         for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"])
         if "show-code" in cell["metadata"].get("tags", [])]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_shown_code_is_highlighted_on_its_slide(chromium, decks, notebook):
    """Each show-code cell's source is on a slide, with its syntax highlighted (keywords
    drawn in another colour than names), and the slide fits the screen."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    page = open_at(chromium, f"{decks.url}/{notebook.stem}.html")
    for path, i in SHOWN:
        if path != notebook:
            continue
        first = next(line.strip() for line in cells[i]["source"] if line.strip()
                     and not line.startswith("#"))
        found = page.evaluate("""(first) => {
            const block = [...document.querySelectorAll('.reveal .highlight pre')]
                .find(pre => pre.innerText.includes(first));
            if (!block) return null;
            const slide = block.closest('section');
            const {h, v} = Reveal.getIndices(slide); Reveal.slide(h, v);
            const colours = new Set([...block.querySelectorAll('span[class]')]
                .map(span => getComputedStyle(span).color));
            return {colours: colours.size, fits: slide.scrollHeight <= slide.clientHeight + 1};
        }""", first)
        assert found, f"{notebook.name}: code cell {i} ({first!r}) is on no slide"
        assert found["colours"] >= 3, f"{notebook.name}: code cell {i} is not highlighted"
        assert found["fits"], f"{notebook.name}: code cell {i}'s slide is taller than the screen"
    screenshot(page, ".highlight pre", f"deck-{notebook.stem}-code")
    page.close()
