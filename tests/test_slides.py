"""The slideshow convention of coursekit.tools.slides, and decks that load nothing from outside."""

import json
import re

import nbformat
import pytest

from coursekit.tools import slides

NOTEBOOKS = sorted(slides.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def markdown(text, tags=()):
    return {"cell_type": "markdown", "metadata": {"tags": list(tags)}, "source": text}


def code(text, tags=()):
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": text,
            "outputs": [], "execution_count": None}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_is_tidy(path):
    """Title slide first, a slide for every numbered section, metadata as the convention says."""
    assert slides.problems(path) == []
    notebook = json.loads(path.read_text(encoding="utf-8"))
    kinds = slides.current(notebook)
    assert kinds[0] == "slide" and notebook["cells"][0]["source"][0].startswith("# ")
    sections = slides.numbered_sections(notebook)
    assert sections and set(sections) <= slides.slide_sections(notebook)


def test_the_convention():
    cells = [markdown("# 09 · Title"), markdown("## 0 · Setup"), code("import x"),
             markdown("Some text"), markdown("### A sub-heading"), code("plot()"),
             markdown("Say this first, then show the figure.", ["notes"]), code("big()", ["skip"]),
             markdown("## Summary")]
    assert slides.expected({"cells": cells}) == [
        "slide", "slide", "-", "subslide", "subslide", "-", "notes", "skip", "slide"]


def test_two_slide_tags_on_one_cell_are_an_error():
    with pytest.raises(slides.SlidesError, match="keep one"):
        slides.slide_type(markdown("text", ["slide", "notes"]), 3)


def test_tidy_and_check(tmp_path):
    path = tmp_path / "09_new.ipynb"
    cells = [markdown("# 09 · New"), markdown("## 1 · First"), code("1 + 1", ["show-code"]),
             markdown("more", ["fragment"]), markdown("Say why.", ["notes"])]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}, indent=1) + "\n")
    assert any("slide type '-'" in p for p in slides.problems(path))
    assert slides.tidy(path) is True
    assert slides.problems(path) == []
    assert slides.tidy(path) is False  # idempotent
    notebook = json.loads(path.read_text())
    assert "slideshow" not in notebook["cells"][2]["metadata"]  # code cells stay clean
    assert slides.slide_count(notebook) == 2
    assert slides.main(["--check", str(path)]) == 0


def test_check_names_a_section_without_a_slide(tmp_path):
    path = tmp_path / "09_new.ipynb"
    cells = [markdown("# 09 · New"), markdown("## 1 · First", ["continue"]),
             markdown("Say why.", ["notes"]), code("1 + 1", ["show-code"])]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    slides.tidy(path)
    assert slides.problems(path) == ["09_new.ipynb: section 1 has no slide"]


def test_a_skipped_section_is_self_study_and_must_be_skipped_whole(tmp_path):
    path = tmp_path / "09_new.ipynb"
    cells = [markdown("# 09 · New"), markdown("## 1 · First"), markdown("Say why.", ["notes"]),
             code("1 + 1", ["show-code"]), markdown("## 2 · Appendix", ["skip"]),
             code("extra()", ["skip"]), markdown("## Summary")]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    slides.tidy(path)
    assert slides.problems(path) == []  # section 2 needs neither a slide nor notes
    assert slides.numbered_sections(json.loads(path.read_text())) == ["1"]
    cells[5] = code("extra()")
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    slides.tidy(path)
    assert slides.problems(path) == ["09_new.ipynb cell 5: in a skipped (self-study) section, "
                                     "but not tagged 'skip': it would join the slide before "
                                     "the section"]


def test_a_deck_loads_nothing_from_outside():
    """The deck's HTML names only files under assets/ (the browser tests check requests)."""
    path = NOTEBOOKS[0]
    html = slides.deck_html(nbformat.read(path, as_version=4), path.stem)
    loaded = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html)
    assert loaded and all(url.startswith("assets/") for url in loaded), loaded
    assert "https://" not in re.sub(r"<(?:section|div|aside)[\s\S]*?</(?:section|div|aside)>",
                                    "", html.split("<body", 1)[1])
    assert "mermaid" not in html and "require.js" not in html and "googleapis" not in html


@pytest.mark.skipif(not (slides.NODE_MODULES / "reveal.js").exists(), reason="no npm ci yet")
def test_build_writes_decks_assets_and_an_index(tmp_path):
    out = slides.build(NOTEBOOKS[:2], tmp_path / "decks")
    for path in NOTEBOOKS[:2]:
        assert (out / f"{path.stem}.html").exists()
    assert (out / "assets" / "mathjax" / "tex-chtml-full.js").exists()
    assert (out / "assets" / "reveal.js" / "dist" / "reveal.js").exists()
    assert "not executed" in (out / "index.html").read_text()


def test_missing_node_modules_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(slides, "NODE_MODULES", tmp_path / "nothing")
    with pytest.raises(slides.SlidesError, match="npm ci"):
        slides.copy_assets(tmp_path)


def _lesson(*cells):
    return slides.lesson_problems({"cells": [markdown("# 09 · Title"), *cells]}, "09_x.ipynb")


def test_a_presentable_lesson_has_no_problems():
    assert _lesson(markdown("## 0 · Setup"), markdown("Say what the profiles are.", ["notes"]),
                   code("loss()", ["show-code"]), markdown("## 1 · Idea $p(x)$ words"),
                   markdown("Explain it.", ["notes"]), markdown("## Summary")) == []


@pytest.mark.parametrize("cells, problem", [
    ([markdown("## 1 · Long\n" + "word " * 121), markdown("x", ["notes"])], "words on one"),
    ([markdown("## 1 · A\n" + "word " * 80), markdown("word " * 80), markdown("x", ["notes"])],
     "a median of"),
    ([markdown("## 1 · A"), markdown("## 2 · B"), markdown("x", ["notes"])], "section 1 has no"),
    ([markdown("## 1 · A"), markdown("**Lecture notes.** x", ["notes"])], "start with a label"),
    ([markdown("## 1 · A"), markdown("x", ["notes"]), markdown("## Summary\n\n## Papers")],
     "two '## ' headings"),
])
def test_what_makes_a_lesson_hard_to_present(cells, problem):
    shown = [code("step()", ["show-code"])]
    assert any(problem in p for p in _lesson(*cells, *shown)), _lesson(*cells, *shown)


def test_a_deck_shows_one_to_three_code_cells():
    plain = [markdown("## 1 · A"), markdown("x", ["notes"])]
    assert any("0 code cells" in p for p in _lesson(*plain, code("a()")))
    assert any("4 code cells" in p for p in _lesson(*plain, *[code("a()", ["show-code"])] * 4))
    assert _lesson(*plain, code("a()", ["show-code"])) == []
